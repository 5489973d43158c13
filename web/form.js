/*
 * The respondent's form: renders a wave's questionnaire definition (questionnaire/FORMAT.md),
 * applies its skip logic and screen-out as the respondent answers, checks each answer as the
 * server will (same codes, same messages), keeps a draft in this browser's storage, and submits
 * with one submission_id per completed form so that any retry is a replay, never a duplicate.
 * No third-party code, no inline script or style (the page's Content-Security-Policy forbids it),
 * no requests except to surveyd itself. Text reaches the page only through textContent.
 */
'use strict';

(function () {
  /* ---- texts of the form itself (the questionnaire brings its own) --------------------- */

  var UI = {
    ko: {
      skip: '본문으로 건너뛰기',
      other_lang: 'English',
      other_lang_code: 'en',
      site: '설문조사',
      loading: '설문을 불러오는 중입니다…',
      progress: function (n, m, a, t) {
        return '섹션 ' + n + '/' + m + ' · ' + t + '문항 중 ' + a + '문항 응답';
      },
      required: '(필수)',
      optional: '(선택)',
      back: '이전',
      next: '다음',
      submit: '제출',
      sending: '제출 중…',
      retry_now: '지금 다시 시도',
      retry: '다시 시도',
      counter: function (n, max) {
        return n + ' / ' + max + '자';
      },
      summary: function (n) {
        return '확인이 필요한 답변이 ' + n + '개 있습니다';
      },
      check_answers: function (n) {
        return '확인이 필요한 답변이 ' + n + '개 있습니다. 표시된 항목을 확인해 주십시오.';
      },
      network:
        '연결이 끊겨 답변이 접수되었는지 확인하지 못했습니다. 보낸 답변은 이 기기에 저장되어 있으며, 확인될 때까지 바꿀 수 없습니다. 연결을 확인한 뒤 ‘다시 시도’를 눌러 주십시오.',
      busy: function (s) {
        return '서버가 잠시 바쁩니다. ' + s + '초 뒤 자동으로 다시 보냅니다. 답변은 이 기기에 저장되어 있습니다.';
      },
      gave_up:
        '지금은 답변을 보낼 수 없습니다. 답변은 이 기기에 저장되어 있으니 잠시 뒤 ‘다시 시도’를 눌러 주십시오.',
      failed:
        '문제가 생겨 답변을 보내지 못했습니다. 답변은 이 기기에 저장되어 있습니다. ‘다시 시도’를 눌러 주십시오.',
      load_failed: '설문을 불러오지 못했습니다. 연결을 확인한 뒤 다시 시도해 주십시오.',
      no_storage: '이 브라우저에서는 작성 중인 답변을 저장할 수 없습니다. 창을 닫기 전에 제출해 주십시오.',
      restart: '새 응답 시작',
      restart_ask: '지금까지의 답변을 이 기기에서 지우고 빈 설문으로 새로 시작합니다.',
      restart_yes: '지우고 새로 시작',
      restart_no: '취소',
      end: {
        thanks: ['감사합니다', '응답이 제출되었습니다. 아래 접수 번호를 보관해 주십시오.'],
        screened: ['참여해 주셔서 감사합니다', ''],
        closed: ['이 설문은 마감되었습니다', '응답 기간이 끝났습니다. 관심을 가져 주셔서 감사합니다.'],
        used: [
          '이미 사용된 링크입니다',
          '이 링크로 이미 응답이 제출되었습니다. 링크마다 한 번만 응답할 수 있습니다.'
        ],
        invalid: [
          '유효하지 않은 링크입니다',
          '초대 이메일에 있는 링크 전체를 다시 열어 주십시오. 문제가 계속되면 조사 담당자에게 문의해 주십시오.'
        ],
        not_found: ['설문을 찾을 수 없습니다', '링크 주소를 다시 확인해 주십시오.'],
        not_open: ['아직 시작되지 않은 설문입니다', '설문이 시작된 뒤 같은 링크로 다시 방문해 주십시오.'],
        conflict: [
          '이미 접수된 응답입니다',
          '이 기기에서 보낸 응답이 이미 접수되었습니다. 참여해 주셔서 감사합니다.'
        ]
      },
      receipt: '접수 번호',
      received_at: '접수 시각',
      new_response: '새 응답 시작'
    },
    en: {
      skip: 'Skip to the survey',
      other_lang: '한국어',
      other_lang_code: 'ko',
      site: 'Survey',
      loading: 'Loading the survey…',
      progress: function (n, m, a, t) {
        return 'Section ' + n + ' of ' + m + ' · ' + a + ' of ' + t + ' questions answered';
      },
      required: '(required)',
      optional: '(optional)',
      back: 'Back',
      next: 'Next',
      submit: 'Submit',
      sending: 'Submitting…',
      retry_now: 'Try again now',
      retry: 'Try again',
      counter: function (n, max) {
        return n + ' of ' + max + ' characters';
      },
      summary: function (n) {
        return n === 1 ? '1 answer needs your attention' : n + ' answers need your attention';
      },
      check_answers: function (n) {
        return (n === 1 ? '1 answer needs' : n + ' answers need') +
          ' your attention. Please check the marked questions.';
      },
      network:
        'The connection was lost, so your answers could not be confirmed. The answers you sent are saved on this device and cannot be changed until they are confirmed. Check your connection and press ‘Try again’.',
      busy: function (s) {
        return 'The server is busy. Your answers will be sent again automatically in ' + s +
          ' seconds. They are saved on this device.';
      },
      gave_up:
        'Your answers cannot be sent right now. They are saved on this device: please press ‘Try again’ in a little while.',
      failed:
        'Something went wrong and your answers were not sent. They are saved on this device. Please press ‘Try again’.',
      load_failed: 'The survey could not be loaded. Please check your connection and try again.',
      no_storage:
        'This browser cannot keep your answers while you work. Please submit before you close the window.',
      restart: 'Start a new response',
      restart_ask: 'This removes the answers so far from this device and starts an empty survey.',
      restart_yes: 'Clear and start again',
      restart_no: 'Cancel',
      end: {
        thanks: ['Thank you', 'Your answers have been received. Please keep this receipt code.'],
        screened: ['Thank you for your time', ''],
        closed: ['This survey is closed', 'The response period has ended. Thank you for your interest.'],
        used: [
          'This link was already used',
          'Answers have already been submitted with this link. Each link can be used once.'
        ],
        invalid: [
          'This link is not valid',
          'Please open the full link from your invitation e-mail again. If this keeps happening, contact the survey team.'
        ],
        not_found: ['Survey not found', 'Please check the address of the link.'],
        not_open: ['This survey has not opened yet', 'Please come back with the same link once it has opened.'],
        conflict: [
          'Your answers were already received',
          'The answers sent from this device have already been received. Thank you for taking part.'
        ]
      },
      receipt: 'Receipt code',
      received_at: 'Received',
      new_response: 'Start a new response'
    }
  };

  /*
   * The validator's problems (questionnaire/qval.c), one message per code and language. The
   * form's own checks and the server's 422 answers are shown with the same text, built from the
   * definition's limits, never from the server's English fragment.
   */
  var PROBLEMS = {
    ko: {
      required: function () { return '필수 질문입니다. 답해 주십시오.'; },
      wrong_type: function (q) {
        return q.type === 'number' ? '숫자로 입력해 주십시오.' : '답변의 형식이 올바르지 않습니다.';
      },
      not_an_option: function () { return '선택지에 없는 답변입니다.'; },
      duplicate_choice: function () { return '같은 항목이 두 번 선택되었습니다.'; },
      too_few_choices: function (q) { return '최소 ' + minChoices(q) + '개를 선택해 주십시오.'; },
      too_many_choices: function (q) { return '최대 ' + maxChoices(q) + '개까지 선택할 수 있습니다.'; },
      exclusive_option: function (q, lang) {
        return '‘' + exclusiveLabel(q, lang) + '’은(는) 다른 항목과 함께 선택할 수 없습니다.';
      },
      out_of_range: function (q) {
        if (q.min !== undefined && q.max !== undefined) {
          return q.min + '에서 ' + q.max + ' 사이의 값을 입력해 주십시오.';
        }
        return q.min !== undefined ? q.min + ' 이상의 값을 입력해 주십시오.'
          : q.max + ' 이하의 값을 입력해 주십시오.';
      },
      too_many_decimals: function (q) {
        return !q.decimals ? '정수로 입력해 주십시오.'
          : '소수점 이하 ' + q.decimals + '자리까지 입력해 주십시오.';
      },
      empty: function () { return '공백만 입력할 수는 없습니다. 답하지 않으려면 비워 두십시오.'; },
      too_long: function (q) { return maxLength(q) + '자 이내로 입력해 주십시오.'; },
      invalid_text: function () { return '입력할 수 없는 문자가 포함되어 있습니다.'; },
      invalid_email: function () { return '올바른 이메일 주소를 입력해 주십시오(예: name@example.com).'; },
      not_shown: function () { return '이 질문은 해당되지 않아 답변을 지웠습니다.'; },
      too_large: function () { return '답변이 너무 길어 보낼 수 없습니다. 이 답변을 줄여 주십시오.'; },
      other: function () { return '이 답변을 확인해 주십시오.'; }
    },
    en: {
      required: function () { return 'This question needs an answer.'; },
      wrong_type: function (q) {
        return q.type === 'number' ? 'Enter a number.' : 'This answer is not in the right form.';
      },
      not_an_option: function () { return 'This is not one of the options.'; },
      duplicate_choice: function () { return 'The same option is chosen twice.'; },
      too_few_choices: function (q) { return 'Choose at least ' + minChoices(q) + '.'; },
      too_many_choices: function (q) { return 'Choose at most ' + maxChoices(q) + '.'; },
      exclusive_option: function (q, lang) {
        return '‘' + exclusiveLabel(q, lang) + '’ cannot be chosen with another option.';
      },
      out_of_range: function (q) {
        if (q.min !== undefined && q.max !== undefined) {
          return 'Enter a number from ' + q.min + ' to ' + q.max + '.';
        }
        return q.min !== undefined ? 'Enter a number of at least ' + q.min + '.'
          : 'Enter a number of at most ' + q.max + '.';
      },
      too_many_decimals: function (q) {
        return !q.decimals ? 'Enter a whole number.'
          : 'Use at most ' + q.decimals + ' decimal place' + (q.decimals === 1 ? '' : 's') + '.';
      },
      empty: function () { return 'Enter some text, or leave the answer empty.'; },
      too_long: function (q) { return 'Use at most ' + maxLength(q) + ' characters.'; },
      invalid_text: function () { return 'The text contains characters that cannot be accepted.'; },
      invalid_email: function () { return 'Enter an e-mail address such as name@example.com.'; },
      not_shown: function () { return 'This question does not apply, so its answer was removed.'; },
      too_large: function () { return 'Your answers are too long to send. Please shorten this answer.'; },
      other: function () { return 'Please check this answer.'; }
    }
  };

  function minChoices(q) { return q.min_choices !== undefined ? q.min_choices : 1; }
  function maxChoices(q) { return q.max_choices !== undefined ? q.max_choices : q.options.length; }
  function maxLength(q) {
    return q.max_length !== undefined ? q.max_length : (q.type === 'email' ? 254 : 2000);
  }
  function exclusiveLabel(q, lang) {
    for (var i = 0; i < q.options.length; i++) {
      if (q.options[i].exclusive) {
        return text(q.options[i].label, lang);
      }
    }
    return '';
  }

  /* ---- state ---------------------------------------------------------------------------- */

  var MAX_AUTO_RETRIES = 6;
  var DEFAULT_MAX_BODY_BYTES = 65536; /* surveyd's default, when the wave resource does not say */
  var st = {
    wave: '',
    token: null,
    def: null,
    lang: 'ko',
    values: {},      /* question id -> what the inputs hold (code, [codes], or typed text) */
    errors: {},      /* question id -> problem code, shown at the field */
    section: 0,      /* index into sections() */
    submissionId: null,
    pending: null,   /* what was sent and not yet answered for sure: {submission_id, answers, rule} */
    sending: false,
    retryTimer: null,
    retryAttempt: 0,
    access: 'invite',
    maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
    draftId: null,   /* names the draft: a digest of the token, or a random id on open waves */
    storageKey: null,
    storageOk: true,
    loadTimer: null
  };

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) {
          return;
        }
        if (k === 'text') {
          e.textContent = v;
        } else if (k === 'class') {
          e.className = v;
        } else {
          e.setAttribute(k, v === true ? '' : String(v));
        }
      });
    }
    (children || []).forEach(function (c) {
      if (c) {
        e.appendChild(c);
      }
    });
    return e;
  }

  function text(t, lang) {
    if (!t) {
      return '';
    }
    return t[lang || st.lang] || t[st.def ? st.def.default_language : 'ko'] || '';
  }

  function ui() { return UI[st.lang] || UI.en; }

  /* ---- storage: the draft --------------------------------------------------------------- */

  /* A short digest of the token for the storage key (cyrb53): the draft of one link is not
   * the draft of another, and the token itself is not written as a key. */
  function digest(s) {
    var h1 = 0xdeadbeef, h2 = 0x41c6ce57;
    for (var i = 0; i < s.length; i++) {
      var ch = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ ch, 2654435761);
      h2 = Math.imul(h2 ^ ch, 1597334677);
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    return (h2 >>> 0).toString(16) + (h1 >>> 0).toString(16);
  }

  function loadDraft() {
    try {
      var raw = window.localStorage.getItem(st.storageKey);
      return raw ? JSON.parse(raw) : null;
    } catch (e) {
      st.storageOk = false;
      return null;
    }
  }

  function writeDraft(obj) {
    try {
      window.localStorage.setItem(st.storageKey, JSON.stringify(obj));
      return true;
    } catch (e) {
      if (st.storageOk) {
        st.storageOk = false;
        showStorageNotice();
        say(ui().no_storage, true);
      }
      return false;
    }
  }

  function removeDraft() {
    try {
      window.localStorage.removeItem(st.storageKey);
    } catch (e) {
      st.storageOk = false;
    }
  }

  /* The values of hidden questions stay here too (a stray click that hides a question and the
   * click that shows it again lose nothing); they are never sent. */
  function saveDraft() {
    writeDraft({
      v: 1,
      questionnaire: st.def.id + '@' + st.def.version,
      lang: st.langChosen ? st.lang : undefined,
      values: st.values,
      section: st.section,
      submission_id: st.submissionId,
      pending: st.pending || undefined,
      saved_at: new Date().toISOString()
    });
  }

  /* A pending request of a draft, if it is one this form could have sent. */
  function restorePending(draft) {
    var p = draft.pending;
    if (!p || typeof p !== 'object' || typeof p.submission_id !== 'string' ||
        p.submission_id !== draft.submission_id || !p.answers || typeof p.answers !== 'object' ||
        Array.isArray(p.answers)) {
      return null;
    }
    return {submission_id: p.submission_id, answers: p.answers,
            rule: typeof p.rule === 'number' ? p.rule : -1};
  }

  /* 16 random hex digits: the draft of one response on an open wave. */
  function randomId() {
    var b = new Uint8Array(8);
    window.crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join('');
  }

  /* The link's address without the token, naming the draft in the fragment instead: once the
   * token is spent, the address bar and the history keep no copy of it, and a reload still
   * finds the receipt (a digest is not the token). */
  function forgetToken() {
    if (!st.token) {
      return;
    }
    var q = new URLSearchParams(window.location.search);
    q.delete('t');
    var rest = q.toString();
    try {
      window.history.replaceState(null, '', window.location.pathname + (rest ? '?' + rest : '') +
        '#d=' + st.draftId);
    } catch (e) {
      /* An address that cannot be replaced keeps the token; nothing else depends on it. */
    }
  }

  /* Take from a draft only what still fits the definition. */
  function restoreValues(draft) {
    var out = {};
    var src = draft && draft.values && typeof draft.values === 'object' ? draft.values : {};
    st.def.questions.forEach(function (q) {
      var v = src[q.id];
      if (v === undefined || v === null) {
        return;
      }
      if (q.type === 'single') {
        if (typeof v === 'string' && optionIndex(q, v) >= 0) {
          out[q.id] = v;
        }
      } else if (q.type === 'multiple') {
        if (Array.isArray(v)) {
          var codes = v.filter(function (c) { return typeof c === 'string' && optionIndex(q, c) >= 0; });
          if (codes.length) {
            out[q.id] = codes;
          }
        }
      } else if (typeof v === 'string') {
        out[q.id] = v;
      }
    });
    return out;
  }

  function uuid() {
    if (window.crypto && typeof window.crypto.randomUUID === 'function') {
      return window.crypto.randomUUID();
    }
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  /* ---- the definition: answers, skip logic, screen-out ---------------------------------- */

  function optionIndex(q, code) {
    for (var i = 0; i < (q.options || []).length; i++) {
      if (q.options[i].code === code) {
        return i;
      }
    }
    return -1;
  }

  function questionIndex(id) {
    for (var i = 0; i < st.def.questions.length; i++) {
      if (st.def.questions[i].id === id) {
        return i;
      }
    }
    return -1;
  }

  /* White space as the server sees it (qval.c is_blank), Unicode spaces included. */
  var BLANK = /^[ \t\n\r\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]*$/;
  var NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
  var INVALID = {};

  /* The JSON value a question's inputs stand for: undefined when unanswered, INVALID for a
   * number that is not one (the check reports it). */
  function answerOf(q) {
    var v = st.values[q.id];
    if (v === undefined) {
      return undefined;
    }
    switch (q.type) {
    case 'single':
      return v;
    case 'multiple':
      return v.length ? v.slice() : undefined;
    case 'number': {
      var s = v.trim();
      if (s === '') {
        return undefined;
      }
      return NUMBER.test(s) && isFinite(Number(s)) ? Number(s) : INVALID;
    }
    default:
      return BLANK.test(v) ? undefined : v;
    }
  }

  function condHolds(c, vis) {
    if (c.all) {
      return c.all.every(function (x) { return condHolds(x, vis); });
    }
    if (c.any) {
      return c.any.some(function (x) { return condHolds(x, vis); });
    }
    if (c.not) {
      return !condHolds(c.not, vis);
    }
    var i = questionIndex(c.question);
    var a = i >= 0 && vis[i] ? answerOf(st.def.questions[i]) : undefined;
    if (a === INVALID) {
      a = undefined;
    }
    if (c.answered !== undefined) {
      return (a !== undefined) === c.answered;
    }
    if (a === undefined) {
      return false; /* a comparison on no answer is false (FORMAT.md) */
    }
    if (c.equals !== undefined) {
      return a === c.equals;
    }
    if (c.in) {
      return typeof a === 'string' && c.in.indexOf(a) >= 0;
    }
    if (c.includes !== undefined) {
      return Array.isArray(a) && a.indexOf(c.includes) >= 0;
    }
    if (c.gte !== undefined) {
      return typeof a === 'number' && a >= c.gte;
    }
    if (c.lte !== undefined) {
      return typeof a === 'number' && a <= c.lte;
    }
    return false;
  }

  /* The last question a condition refers to: where a screen-out rule stops the form. */
  function lastReferenced(c) {
    var m = -1;
    (c.all || c.any || []).forEach(function (x) { m = Math.max(m, lastReferenced(x)); });
    if (c.not) {
      m = Math.max(m, lastReferenced(c.not));
    }
    if (c.question) {
      m = Math.max(m, questionIndex(c.question));
    }
    return m;
  }

  /* As qval.c compute_shown: show_if in the order of asking, then the earliest screen-out. */
  function visibility() {
    var qs = st.def.questions, vis = [], rule = -1, stop = -1;
    for (var i = 0; i < qs.length; i++) {
      vis[i] = !qs[i].show_if || condHolds(qs[i].show_if, vis);
    }
    (st.def.eligibility || []).forEach(function (r, k) {
      var at = lastReferenced(r.screen_out_if);
      if (condHolds(r.screen_out_if, vis) && (rule < 0 || at < stop)) {
        rule = k;
        stop = at;
      }
    });
    if (rule >= 0) {
      for (var j = stop + 1; j < qs.length; j++) {
        vis[j] = false;
      }
    }
    return {shown: vis, rule: rule, stop: stop};
  }

  function sections() {
    if (st.def.sections && st.def.sections.length) {
      return st.def.sections;
    }
    return [{id: '', title: null}];
  }

  function sectionOf(q) {
    var ss = sections();
    for (var i = 0; i < ss.length; i++) {
      if (ss[i].id === (q.section || '')) {
        return i;
      }
    }
    return 0;
  }

  /* Sections that hold at least one shown question, in order. */
  function liveSections(vis) {
    var out = [];
    st.def.questions.forEach(function (q, i) {
      var s = sectionOf(q);
      if (vis.shown[i] && out.indexOf(s) < 0) {
        out.push(s);
      }
    });
    return out.sort(function (a, b) { return a - b; });
  }

  /* ---- checks: the server's rules (qval.c), in the same order ---------------------------- */

  function hasControl(s) {
    return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/.test(s);
  }

  function utf8Bytes(s) {
    return new TextEncoder().encode(s).length;
  }

  /* qval.c is_email; the local part's limit of 64 is in UTF-8 bytes, as the server counts. */
  function isEmail(s) {
    var at = s.indexOf('@');
    if (at <= 0 || s.indexOf('@', at + 1) >= 0 || utf8Bytes(s.slice(0, at)) > 64) {
      return false;
    }
    if (/[\u0000-\u0020\u007f<>,;"\\()[\]]/.test(s)) {
      return false;
    }
    var d = s.slice(at + 1);
    return !(d.length < 3 || d[0] === '.' || d[d.length - 1] === '.' || d.indexOf('.') < 0 ||
             d.indexOf('..') >= 0 || s[0] === '.' || s[at - 1] === '.');
  }

  /* Digits after the point in the shortest text that reads back as x (qval.c decimals_of). */
  function decimalsOf(x) {
    var s = Math.abs(x).toExponential();
    var m = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
    var digits = 1 + (m[2] ? m[2].length : 0);
    return Math.max(0, digits - 1 - Number(m[3]));
  }

  /* The problem code of one shown question, or null. */
  function check(q) {
    var a = answerOf(q);
    if (a === undefined) {
      return q.required ? 'required' : null;
    }
    if (q.type === 'multiple') {
      var n = a.length;
      if (n < minChoices(q)) {
        return 'too_few_choices';
      }
      if (n > maxChoices(q)) {
        return 'too_many_choices';
      }
      var exclusive = a.some(function (c) { return q.options[optionIndex(q, c)].exclusive; });
      return exclusive && n > 1 ? 'exclusive_option' : null;
    }
    if (q.type === 'number') {
      if (a === INVALID) {
        return 'wrong_type';
      }
      if ((q.min !== undefined && a < q.min) || (q.max !== undefined && a > q.max)) {
        return 'out_of_range';
      }
      return decimalsOf(a) > (q.decimals || 0) ? 'too_many_decimals' : null;
    }
    if (q.type === 'text' || q.type === 'email') {
      if (Array.from(a).length > maxLength(q)) {
        return 'too_long';
      }
      if (hasControl(a)) {
        return 'invalid_text';
      }
      if (q.type === 'email' && !isEmail(a)) {
        return 'invalid_email';
      }
    }
    return null;
  }

  function message(q, code) {
    var table = PROBLEMS[st.lang] || PROBLEMS.en;
    return (table[code] || table.other)(q, st.lang);
  }

  /* The answers to send: shown questions only, hidden ones never (their values stay in the
   * draft until the answers are submitted, but never leave the browser). */
  function payloadAnswers() {
    var vis = visibility(), out = {};
    st.def.questions.forEach(function (q, i) {
      var a = vis.shown[i] ? answerOf(q) : undefined;
      if (a !== undefined && a !== INVALID) {
        out[q.id] = a;
      }
    });
    return out;
  }

  /* The request's body, exactly as sent (and sent again on every retry). */
  function bodyOf(p) {
    var b = {submission_id: p.submission_id, answers: p.answers};
    if (st.token) {
      b.token = st.token;
    }
    return JSON.stringify(b);
  }

  /* Answers longer than the server takes in one request (max_body_bytes): the longest shown
   * text is where the respondent can shorten them, or null when they fit. */
  function oversized(answers) {
    if (utf8Bytes(bodyOf({submission_id: st.submissionId || uuid(), answers: answers})) <=
        st.maxBodyBytes) {
      return null;
    }
    var longest = null, most = -1;
    st.def.questions.forEach(function (q) {
      var a = answers[q.id];
      if (typeof a === 'string' && (q.type === 'text' || q.type === 'email') && utf8Bytes(a) > most) {
        longest = q;
        most = utf8Bytes(a);
      }
    });
    return longest || st.def.questions.filter(function (q) { return answers[q.id] !== undefined; })[0];
  }

  /* ---- rendering ------------------------------------------------------------------------- */

  /* A message in the live region. With a retry button, focus moves to it (the button that was
   * pressed is disabled or gone meanwhile), and the button is described by the message. */
  function say(msg, warn, withRetry) {
    var box = $('status');
    box.textContent = '';
    if (!msg) {
      return;
    }
    var p = el('p', {class: warn ? 'warn' : null, id: 'status-text', text: msg});
    box.appendChild(p);
    if (withRetry) {
      var b = el('button', {type: 'button', id: 'retry', text: withRetry, 'aria-describedby': 'status-text'});
      b.addEventListener('click', function () {
        cancelRetry();
        submit();
      });
      box.appendChild(el('p', {class: 'retry-row'}, [b]));
      b.focus();
    }
  }

  /* The browser keeps no draft: said in a notice that stays on every page (not in the live
   * region, whose messages come and go). */
  function showStorageNotice() {
    var n = $('no-storage');
    if (n) {
      n.textContent = ui().no_storage;
      n.hidden = st.storageOk;
    }
  }

  function setLang(lang) {
    st.lang = lang;
    document.documentElement.lang = lang;
    var sw = $('lang-switch');
    sw.textContent = ui().other_lang;
    sw.setAttribute('lang', ui().other_lang_code);
    sw.hidden = !st.def || st.def.languages.indexOf(ui().other_lang_code) < 0;
    $('skip-link').textContent = ui().skip;
    $('site-name').textContent = st.def ? text(st.def.title) : ui().site;
    document.title = st.def ? text(st.def.title) : ui().site;
  }

  function inputId(q, k) { return 'q-' + q.id + (k === undefined ? '' : '-' + k); }

  function describedBy(q) {
    var ids = [];
    if (q.help) {
      ids.push('h-' + q.id);
    }
    if (q.type === 'text' || q.type === 'email') {
      ids.push('c-' + q.id);
    }
    if (st.errors[q.id]) {
      ids.push('e-' + q.id);
    }
    return ids.join(' ') || null;
  }

  function renderQuestion(q) {
    var req = el('span', {class: 'req', text: ' ' + (q.required ? ui().required : ui().optional)});
    var help = q.help ? el('p', {class: 'help', id: 'h-' + q.id, text: text(q.help)}) : null;
    var err = el('p', {class: 'error', id: 'e-' + q.id});
    var box;
    if (q.type === 'single' || q.type === 'multiple') {
      var legend = el('legend', null, [document.createTextNode(text(q.label)), req]);
      box = el('fieldset', {class: 'question', id: 'question-' + q.id, 'data-q': q.id}, [legend, help]);
      q.options.forEach(function (o, k) {
        var input = el('input', {
          type: q.type === 'single' ? 'radio' : 'checkbox',
          name: q.id,
          value: o.code,
          id: inputId(q, k)
        });
        box.appendChild(el('label', {class: 'choice', for: inputId(q, k)},
          [input, el('span', {text: text(o.label)})]));
      });
    } else {
      var label = el('label', {class: 'qlabel', for: inputId(q)},
        [document.createTextNode(text(q.label)), req]);
      var field;
      if (q.type === 'text') {
        field = el('textarea', {id: inputId(q), name: q.id, rows: 5});
      } else {
        field = el('input', {
          id: inputId(q),
          name: q.id,
          type: q.type === 'email' ? 'email' : 'text',
          inputmode: q.type === 'number' ? 'decimal' : null,
          autocomplete: q.type === 'email' ? 'email' : 'off',
          spellcheck: q.type === 'email' ? 'false' : null,
          class: q.type === 'number' ? 'short' : null
        });
      }
      if (q.required) {
        field.setAttribute('aria-required', 'true');
      }
      box = el('div', {class: 'question', id: 'question-' + q.id, 'data-q': q.id}, [label, help, field]);
      if (q.type === 'text' || q.type === 'email') {
        box.appendChild(el('p', {class: 'counter', id: 'c-' + q.id}));
      }
    }
    box.appendChild(err);
    return box;
  }

  function render() {
    var app = $('app');
    app.textContent = '';
    var form = el('form', {id: 'form', novalidate: true});
    var head = el('div', {class: 'form-head'}, [
      el('h1', {text: text(st.def.title)}),
      st.def.description ? el('p', {class: 'intro', id: 'intro', text: text(st.def.description)}) : null,
      el('div', {class: 'progress'}, [
        el('p', {id: 'progress-text'}),
        el('div', {class: 'progress-bar', 'aria-hidden': 'true'}, [el('div', {class: 'progress-fill w0', id: 'progress-fill'})])
      ]),
      el('p', {class: 'notice warn', id: 'no-storage', hidden: true}),
      el('div', {class: 'summary', id: 'summary', tabindex: '-1', hidden: true})
    ]);
    var ss = sections();
    ss.forEach(function (s, i) {
      var sec = el('section', {'data-section': i, id: 'section-' + i, hidden: true, 'aria-labelledby': 'st-' + i});
      sec.appendChild(el('h2', {class: 'section-title', id: 'st-' + i, tabindex: '-1',
        text: s.title ? text(s.title) : text(st.def.title)}));
      st.def.questions.forEach(function (q) {
        if (sectionOf(q) === i) {
          sec.appendChild(renderQuestion(q));
        }
      });
      form.appendChild(sec);
    });
    form.appendChild(el('div', {class: 'nav'}, [
      el('button', {type: 'button', id: 'back', text: ui().back}),
      el('button', {type: 'submit', class: 'primary', id: 'next', text: ui().next})
    ]));
    app.appendChild(head);
    app.appendChild(form);
    if (st.access === 'open') {
      app.appendChild(el('div', {class: 'restart', id: 'restart-box'}));
      restartOffer(false);
    }
    showStorageNotice();
    app.setAttribute('aria-busy', 'false');
    form.addEventListener('change', onInput);
    form.addEventListener('input', onInput);
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      next();
    });
    $('back').addEventListener('click', back);
    fillInputs();
    update();
  }

  /* Put the values into the inputs (after a render or a restore). */
  function fillInputs() {
    st.def.questions.forEach(function (q) {
      var v = st.values[q.id];
      if (q.type === 'single' || q.type === 'multiple') {
        q.options.forEach(function (o, k) {
          var input = $(inputId(q, k));
          input.checked = q.type === 'single' ? v === o.code : Array.isArray(v) && v.indexOf(o.code) >= 0;
        });
      } else {
        $(inputId(q)).value = typeof v === 'string' ? v : '';
      }
    });
  }

  function clearInputs(q) {
    delete st.values[q.id];
    delete st.errors[q.id];
    if (q.type === 'single' || q.type === 'multiple') {
      q.options.forEach(function (o, k) { $(inputId(q, k)).checked = false; });
    } else {
      $(inputId(q)).value = '';
    }
  }

  /* Show the current section, hide what the skip logic hides (a hidden question keeps its value
   * but never its error, and is never sent), refresh labels and progress. Once answers are sent
   * and until the server's answer is known for sure, they are read-only: a retry sends exactly
   * what was sent, so that the server can answer it from the stored row. */
  function update() {
    var vis = visibility();
    var locked = !!st.pending;
    st.def.questions.forEach(function (q, i) {
      if (!vis.shown[i]) {
        delete st.errors[q.id];
      }
      $('question-' + q.id).hidden = !vis.shown[i];
      inputsOf(q).forEach(function (input) { input.disabled = locked; });
      showError(q);
      if (q.type === 'text' || q.type === 'email') {
        var n = Array.from(st.values[q.id] || '').length;
        $('c-' + q.id).textContent = ui().counter(n, maxLength(q));
      }
    });
    var live = liveSections(vis);
    if (live.indexOf(st.section) < 0) {
      /* The current section lost its questions (or a draft named another): the nearest live. */
      var before = live.filter(function (s) { return s <= st.section; });
      st.section = before.length ? before[before.length - 1] : live[0] || 0;
    }
    sections().forEach(function (s, i) { $('section-' + i).hidden = i !== st.section; });
    var pos = live.indexOf(st.section);
    var last = isLastPage(vis, live);
    var shownCount = 0, answered = 0;
    st.def.questions.forEach(function (q, i) {
      if (vis.shown[i]) {
        shownCount++;
        var a = answerOf(q);
        if (a !== undefined && a !== INVALID) {
          answered++;
        }
      }
    });
    var total = last ? pos + 1 : live.length;
    $('progress-text').textContent = ui().progress(pos + 1, total, answered, shownCount);
    var pct = Math.round(((pos + (last ? 1 : 0)) / Math.max(1, total)) * 20) * 5;
    $('progress-fill').className = 'progress-fill w' + Math.min(100, Math.max(0, pct));
    var intro = $('intro');
    if (intro) {
      intro.hidden = pos !== 0;
    }
    $('back').hidden = pos <= 0;
    $('back').disabled = locked;
    /* Not disabled while sending, only marked so: a disabled button would drop the focus. */
    var nb = $('next');
    nb.textContent = st.sending ? ui().sending : last ? ui().submit : ui().next;
    if (locked) {
      nb.setAttribute('aria-disabled', 'true');
    } else {
      nb.removeAttribute('aria-disabled');
    }
    var rb = $('restart-box');
    if (rb) {
      rb.hidden = locked;
    }
  }

  /* The current page is the last one: no live section after it, or screen-out stops here. */
  function isLastPage(vis, live) {
    if (vis.rule >= 0 && sectionOf(st.def.questions[vis.stop]) <= st.section) {
      return true;
    }
    return live.indexOf(st.section) === live.length - 1;
  }

  function showError(q) {
    var code = st.errors[q.id];
    var box = $('question-' + q.id);
    $('e-' + q.id).textContent = code ? message(q, code) : '';
    box.classList.toggle('has-error', !!code);
    var ids = describedBy(q);
    inputsOf(q).forEach(function (input) {
      if (ids) {
        input.setAttribute('aria-describedby', ids);
      } else {
        input.removeAttribute('aria-describedby');
      }
      if (code) {
        input.setAttribute('aria-invalid', 'true');
      } else {
        input.removeAttribute('aria-invalid');
      }
    });
  }

  function inputsOf(q) {
    if (q.type === 'single' || q.type === 'multiple') {
      return q.options.map(function (o, k) { return $(inputId(q, k)); });
    }
    return [$(inputId(q))];
  }

  function focusQuestion(q) {
    /* A radio group is entered at its checked radio, as the Tab key does. */
    var inputs = inputsOf(q);
    var checked = inputs.filter(function (i) { return i.checked; });
    (q.type === 'single' && checked.length ? checked[0] : inputs[0]).focus();
  }

  function showSummary(list) {
    var box = $('summary');
    box.textContent = '';
    if (!list.length) {
      box.hidden = true;
      return;
    }
    box.appendChild(el('h3', {text: ui().summary(list.length)}));
    var ul = el('ul');
    list.forEach(function (q) {
      var a = el('a', {href: '#' + inputsOf(q)[0].id, text: text(q.label) + ': ' + message(q, st.errors[q.id])});
      a.addEventListener('click', function (ev) {
        ev.preventDefault();
        focusQuestion(q);
      });
      ul.appendChild(el('li', null, [a]));
    });
    box.appendChild(ul);
    box.hidden = false;
  }

  /* ---- interaction ----------------------------------------------------------------------- */

  function onInput(ev) {
    var t = ev.target;
    var qid = t.name;
    var i = questionIndex(qid);
    if (i < 0) {
      return;
    }
    var q = st.def.questions[i];
    if (st.pending) {
      return; /* read-only until the server's answer is known (the inputs are disabled) */
    }
    if (q.type === 'single') {
      if (!t.checked) {
        return;
      }
      st.values[qid] = t.value;
    } else if (q.type === 'multiple') {
      if (ev.type !== 'change') {
        return;
      }
      var picked = optionIndex(q, t.value);
      if (t.checked && q.options[picked].exclusive) {
        /* An exclusive option ("undecided") clears the others, and any other clears it. */
        q.options.forEach(function (o, k) { $(inputId(q, k)).checked = k === picked; });
      } else if (t.checked) {
        q.options.forEach(function (o, k) {
          if (o.exclusive) {
            $(inputId(q, k)).checked = false;
          }
        });
      }
      var codes = q.options.filter(function (o, k) { return $(inputId(q, k)).checked; })
        .map(function (o) { return o.code; });
      if (codes.length) {
        st.values[qid] = codes;
      } else {
        delete st.values[qid];
      }
    } else {
      if (t.value === '') {
        delete st.values[qid];
      } else {
        st.values[qid] = t.value;
      }
    }
    /* An error shown at a field goes away as soon as the answer is right. */
    if (st.errors[qid]) {
      var code = check(q) || (st.errors[qid] === 'too_large' && oversized(payloadAnswers()) ? 'too_large' : null);
      if (code) {
        st.errors[qid] = code;
      } else {
        delete st.errors[qid];
      }
      refreshSummary();
    }
    update();
    saveDraft();
  }

  function refreshSummary() {
    var list = st.def.questions.filter(function (q) {
      return st.errors[q.id] && sectionOf(q) === st.section;
    });
    if (!list.length) {
      $('summary').hidden = true;
    } else if (!$('summary').hidden) {
      showSummary(list);
    }
  }

  /* Check the shown questions of a section; errors go to their fields. */
  function checkSection(sec, vis) {
    var bad = [];
    st.def.questions.forEach(function (q, i) {
      if (sec !== null && sectionOf(q) !== sec) {
        return;
      }
      if (!vis.shown[i]) {
        return;
      }
      var code = check(q);
      if (code) {
        st.errors[q.id] = code;
        bad.push(q);
      } else {
        delete st.errors[q.id];
      }
    });
    return bad;
  }

  function goTo(sec, focusHeading) {
    st.section = sec;
    $('summary').hidden = true;
    update();
    saveDraft();
    if (focusHeading) {
      $('st-' + sec).focus();
      window.scrollTo(0, 0);
    }
  }

  function back() {
    var live = liveSections(visibility());
    var pos = live.indexOf(st.section);
    if (pos > 0) {
      goTo(live[pos - 1], true);
    }
  }

  function next() {
    if (st.sending || st.pending) {
      return; /* a second click or Enter while sending; after a failure the retry button sends */
    }
    var vis = visibility();
    var bad = checkSection(st.section, vis);
    update();
    if (bad.length) {
      showSummary(bad);
      say(ui().check_answers(bad.length), true);
      focusQuestion(bad[0]);
      return;
    }
    say('');
    var live = liveSections(vis);
    if (isLastPage(vis, live)) {
      submit();
      return;
    }
    goTo(live[live.indexOf(st.section) + 1], true);
  }

  /* Show errors (question -> code) across sections: the first one's section, focus on it. */
  function showErrorsEverywhere(bad) {
    var first = bad[0];
    st.section = sectionOf(first);
    update();
    showSummary(bad.filter(function (q) { return sectionOf(q) === st.section; }));
    say(ui().check_answers(bad.length), true);
    focusQuestion(first);
  }

  /* ---- submission ---------------------------------------------------------------------- */

  function cancelRetry() {
    if (st.retryTimer) {
      clearTimeout(st.retryTimer);
      st.retryTimer = null;
    }
  }

  function scheduleRetry(seconds) {
    cancelRetry();
    if (st.retryAttempt >= MAX_AUTO_RETRIES) {
      say(ui().gave_up, true, ui().retry);
      return;
    }
    st.retryAttempt++;
    say(ui().busy(seconds), true, ui().retry_now);
    st.retryTimer = setTimeout(function () {
      st.retryTimer = null;
      submit();
    }, seconds * 1000);
  }

  function backoffSeconds(retryAfter) {
    var b = Math.min(30, 2 * Math.pow(2, st.retryAttempt));
    var ra = parseInt(retryAfter, 10);
    return isFinite(ra) && ra > 0 ? Math.min(120, Math.max(ra, b)) : b;
  }

  /* Check everything, freeze the body to send (saved with the draft before the first try) and
   * send it. A retry, automatic or not, after a reload too, sends that same body, never one
   * rebuilt from the inputs: an edit after a lost answer would otherwise be a conflict with a
   * row the server may already hold. */
  function submit() {
    if (st.sending) {
      return; /* a double click sends once; a retry reuses the same body anyway */
    }
    if (!st.pending) {
      var vis = visibility();
      var bad = checkSection(null, vis);
      if (bad.length) {
        showErrorsEverywhere(bad);
        return;
      }
      var answers = payloadAnswers();
      var long = oversized(answers);
      if (long) {
        st.errors[long.id] = 'too_large';
        showErrorsEverywhere([long]);
        return;
      }
      if (!st.submissionId) {
        /* Made once per completed form: every retry is the same submission, which the server
         * answers from the stored row. */
        st.submissionId = uuid();
      }
      st.pending = {submission_id: st.submissionId, answers: answers, rule: vis.rule};
      saveDraft();
    }
    send();
  }

  function send() {
    st.sending = true;
    update();
    say(ui().sending);
    fetch('/v1/waves/' + encodeURIComponent(st.wave) + '/responses', {
      method: 'POST',
      headers: {'Content-Type': 'application/json', Accept: 'application/json'},
      body: bodyOf(st.pending),
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer'
    }).then(function (res) {
      return res.text().then(function (t) {
        var doc = null;
        try {
          doc = JSON.parse(t);
        } catch (e) {
          doc = null;
        }
        answered(res.status, doc, res.headers.get('Retry-After'));
      });
    }, function () {
      st.sending = false;
      update();
      say(ui().network, true, ui().retry);
      window.addEventListener('online', onlineAgain, {once: true});
    });
  }

  function onlineAgain() {
    if (!st.sending && !st.retryTimer && st.pending && $('retry')) {
      submit();
    }
  }

  function problemType(doc) {
    var t = doc && typeof doc.type === 'string' ? doc.type : '';
    return t.slice(t.lastIndexOf('/') + 1);
  }

  /* The request is over for sure: nothing is pending any more, the answers are editable. */
  function settle() {
    st.pending = null;
    st.retryAttempt = 0;
    saveDraft();
  }

  /* An end for this link: the answers leave the device, what happened is kept (so that the
   * link opened again says the same), and the address forgets the token. */
  function endForGood(kind) {
    writeDraft({v: 1, end: kind});
    forgetToken();
    endPage(kind);
  }

  function answered(status, doc, retryAfter) {
    st.sending = false;
    var screened = st.pending ? st.pending.rule : -1;
    if ((status === 200 || status === 201) && doc && doc.response_id) {
      st.retryAttempt = 0;
      st.pending = null;
      var done = {
        response_id: String(doc.response_id),
        received_at: String(doc.received_at || ''),
        rule: screened
      };
      /* The answers leave this device's storage once the server holds them. */
      writeDraft({v: 1, done: done});
      forgetToken();
      endPage(screened >= 0 ? 'screened' : 'thanks', done);
      return;
    }
    var type = problemType(doc);
    if (status === 503 || status === 429) {
      /* Not stored; sent again, the same body, after a wait. */
      update();
      scheduleRetry(backoffSeconds(retryAfter));
      return;
    }
    if (status === 422 && doc && Array.isArray(doc.errors)) {
      settle(); /* nothing was stored: the corrected answers go under the same id */
      var bad = [];
      doc.errors.forEach(function (e) {
        var m = /^\/answers\/([a-z][a-z0-9_]*)(\/\d+)?$/.exec(String(e.path || ''));
        var i = m ? questionIndex(m[1]) : -1;
        if (i < 0) {
          return;
        }
        var q = st.def.questions[i];
        if (e.code === 'not_shown') {
          clearInputs(q);
        }
        if (bad.indexOf(q) < 0) {
          st.errors[q.id] = String(e.code || 'other'); /* the first problem of a question */
          bad.push(q);
        }
      });
      bad.sort(function (a, b) { return questionIndex(a.id) - questionIndex(b.id); });
      saveDraft();
      if (bad.length) {
        showErrorsEverywhere(bad);
        return;
      }
      update();
      say(ui().failed, true, ui().retry);
      return;
    }
    if (status === 413) {
      /* The server's limit is below what the wave resource said: below this body, anyway. */
      var sent = st.pending.answers;
      st.maxBodyBytes = Math.min(st.maxBodyBytes, utf8Bytes(bodyOf(st.pending)) - 1);
      settle();
      var long = oversized(sent);
      if (long) {
        st.errors[long.id] = 'too_large';
        showErrorsEverywhere([long]);
        return;
      }
    }
    if (status === 401) {
      endForGood('invalid');
      return;
    }
    if (status === 409 && (type === 'invitation_used' || type === 'submission_conflict')) {
      endForGood(type === 'invitation_used' ? 'used' : 'conflict');
      return;
    }
    if (status === 410) {
      /* Closed: these answers can never be sent; they leave the device. */
      removeDraft();
      endPage('closed');
      return;
    }
    if (status === 404 || (status === 409 && type === 'wave_not_open')) {
      settle(); /* the answers stay for when the survey opens */
      endPage(status === 404 ? 'not_found' : 'not_open');
      return;
    }
    /* Anything else (a 500, a proxy's page): stored or not is unknown, so the same body again. */
    update();
    say(ui().failed, true, ui().retry);
  }

  /* ---- end pages ----------------------------------------------------------------------- */

  /* A code to quote: the first 16 hex digits of the receipt's response_id in groups of four,
   * "1A2B-3C4D-5E6F-4A8B" (64 bits, 60 of them random: the fifth group starts with the UUID's
   * version digit). */
  function receiptCode(id) {
    var h = id.replace(/-/g, '').slice(0, 16).toUpperCase();
    return h.match(/.{1,4}/g).join('-');
  }

  /* The survey's link without a draft: a new response (open waves). */
  function newResponse() {
    var lang = new URLSearchParams(window.location.search).get('lang');
    window.location.assign('/s/' + encodeURIComponent(st.wave) + (lang ? '?lang=' + encodeURIComponent(lang) : ''));
  }

  /* "Start a new response" on an open wave's form, asked twice: the first press only says what
   * the second would do (the answers so far leave the device). */
  function restartOffer(asking) {
    var box = $('restart-box');
    box.textContent = '';
    if (!asking) {
      var b = el('button', {type: 'button', class: 'quiet', id: 'restart', text: ui().restart});
      b.addEventListener('click', function () { restartOffer(true); });
      box.appendChild(b);
      return;
    }
    var yes = el('button', {type: 'button', id: 'restart-confirm', text: ui().restart_yes,
                            'aria-describedby': 'restart-ask'});
    var no = el('button', {type: 'button', class: 'quiet', id: 'restart-cancel', text: ui().restart_no});
    yes.addEventListener('click', function () {
      removeDraft();
      newResponse();
    });
    no.addEventListener('click', function () {
      restartOffer(false);
      $('restart').focus();
    });
    box.appendChild(el('p', {id: 'restart-ask', text: ui().restart_ask}));
    box.appendChild(el('p', {class: 'restart-row'}, [yes, no]));
    yes.focus();
  }

  function endPage(kind, done) {
    cancelRetry();
    st.end = {kind: kind, done: done};
    var t = ui().end[kind];
    var app = $('app');
    app.textContent = '';
    say('');
    var h = el('h1', {id: 'end-title', tabindex: '-1', text: t[0]});
    var page = el('div', {class: 'end', id: 'end', 'data-end': kind}, [h]);
    var body = t[1];
    if (kind === 'screened' && st.def && done && done.rule >= 0 && st.def.eligibility[done.rule]) {
      body = text(st.def.eligibility[done.rule].message);
    }
    if (body) {
      page.appendChild(el('p', {id: 'end-text', text: body}));
    }
    if (done && done.response_id) {
      page.appendChild(el('p', null, [
        document.createTextNode(ui().receipt + ' '),
        el('strong', {class: 'receipt', id: 'receipt', text: receiptCode(done.response_id)})
      ]));
      var when = new Date(done.received_at);
      if (!isNaN(when.getTime())) {
        page.appendChild(el('p', {class: 'help', text: ui().received_at + ': ' +
          when.toLocaleString(st.lang === 'ko' ? 'ko-KR' : 'en-GB')}));
      }
    }
    if (done && done.response_id && st.access === 'open') {
      var again = el('button', {type: 'button', id: 'new-response', text: ui().new_response});
      again.addEventListener('click', newResponse);
      page.appendChild(el('p', {class: 'restart-row'}, [again]));
    }
    app.appendChild(page);
    app.setAttribute('aria-busy', 'false');
    h.focus();
  }

  /* ---- start ------------------------------------------------------------------------- */

  function pickLanguage(draft) {
    var langs = st.def.languages;
    var asked = new URLSearchParams(window.location.search).get('lang');
    if (asked && langs.indexOf(asked) >= 0) {
      return asked;
    }
    if (draft && draft.lang && langs.indexOf(draft.lang) >= 0) {
      st.langChosen = true;
      return draft.lang;
    }
    var prefs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || ''];
    for (var i = 0; i < prefs.length; i++) {
      var p = String(prefs[i]).toLowerCase();
      for (var k = 0; k < langs.length; k++) {
        var l = langs[k].toLowerCase();
        if (p === l || p.split('-')[0] === l.split('-')[0]) {
          return langs[k];
        }
      }
    }
    return st.def.default_language;
  }

  function getJson(url) {
    return fetch(url, {cache: 'no-cache', credentials: 'omit', referrerPolicy: 'no-referrer'})
      .then(function (res) {
        return res.text().then(function (t) {
          var doc = null;
          try {
            doc = JSON.parse(t);
          } catch (e) {
            doc = null;
          }
          return {status: res.status, doc: doc};
        });
      });
  }

  var loadAttempt = 0;

  /* The survey could not be loaded: said in the live region, a button to try again, and a few
   * automatic tries with backoff. */
  function loadFailed() {
    var app = $('app');
    app.textContent = '';
    app.setAttribute('aria-busy', 'false');
    var b = el('button', {type: 'button', class: 'primary', id: 'reload', text: ui().retry});
    b.addEventListener('click', function () {
      loadAttempt = 0;
      start();
    });
    app.appendChild(el('p', {class: 'retry-row'}, [b]));
    say(ui().load_failed, true);
    if (loadAttempt < MAX_AUTO_RETRIES) {
      st.loadTimer = setTimeout(start, Math.min(30, 2 * Math.pow(2, loadAttempt++)) * 1000);
    }
  }

  function start() {
    if (st.loadTimer) {
      clearTimeout(st.loadTimer);
      st.loadTimer = null;
    }
    var base = '/v1/waves/' + encodeURIComponent(st.wave);
    Promise.all([getJson(base), getJson(base + '/questionnaire')]).then(function (r) {
      var info = r[0], qn = r[1];
      if (info.status === 404 || qn.status === 404) {
        say('');
        endPage('not_found');
        return;
      }
      if (info.status !== 200 || qn.status !== 200 || !info.doc || !qn.doc || !qn.doc.questions) {
        loadFailed();
        return;
      }
      say('');
      st.def = qn.doc;
      st.access = info.doc.access === 'open' ? 'open' : 'invite';
      var limit = info.doc.max_body_bytes;
      st.maxBodyBytes = typeof limit === 'number' && limit >= 1024 ? limit : DEFAULT_MAX_BODY_BYTES;
      if (!st.draftId && st.access === 'open') {
        /* A response of its own for whoever opens the survey's link: named in the fragment,
         * so that a reload finds this draft and the next person on this browser does not. */
        st.draftId = randomId();
        try {
          window.history.replaceState(null, '', window.location.pathname + window.location.search +
            '#d=' + st.draftId);
        } catch (e) {
          /* The draft then lasts as long as the page. */
        }
      }
      st.storageKey = 'survey.draft.' + st.wave + '.' + (st.draftId || '-');
      var draft = st.draftId ? loadDraft() : null;
      setLang(pickLanguage(draft));
      if (draft && draft.done) {
        endPage(draft.done.rule >= 0 ? 'screened' : 'thanks', draft.done);
        return;
      }
      if (draft && typeof draft.end === 'string' && ui().end[draft.end]) {
        endPage(draft.end);
        return;
      }
      if (info.doc.status !== 'open') {
        endPage('closed');
        return;
      }
      if (st.access === 'invite' && !st.token) {
        endPage('invalid');
        return;
      }
      if (draft && draft.questionnaire === st.def.id + '@' + st.def.version) {
        st.values = restoreValues(draft);
        st.section = typeof draft.section === 'number' ? draft.section : 0;
        st.submissionId = typeof draft.submission_id === 'string' ? draft.submission_id : null;
        st.pending = restorePending(draft);
      }
      render();
      if (st.pending) {
        /* Sent before and not answered for sure: send the same again. */
        submit();
      }
    }, loadFailed);
  }

  function switchLanguage() {
    var other = ui().other_lang_code;
    st.langChosen = true;
    setLang(other);
    if (st.end) {
      endPage(st.end.kind, st.end.done);
    } else if (st.def && $('form')) {
      var hadSummary = !$('summary').hidden;
      render();
      if (hadSummary) {
        refreshSummaryNow();
      }
      saveDraft();
    }
    $('lang-switch').focus();
  }

  function refreshSummaryNow() {
    showSummary(st.def.questions.filter(function (q) {
      return st.errors[q.id] && sectionOf(q) === st.section;
    }));
  }

  function init() {
    var m = /^\/s\/([a-z0-9_-]{1,64})$/.exec(window.location.pathname);
    st.wave = m ? m[1] : '';
    st.token = new URLSearchParams(window.location.search).get('t');
    /* The draft's name: a digest of the token (the token itself is not written as a key), or
     * the one in the fragment (an open wave's response; a spent link's receipt). */
    var named = /^#d=([0-9a-f]{1,32})$/.exec(window.location.hash);
    st.draftId = st.token ? digest(st.token) : named ? named[1] : null;
    /* Another fragment is another response: start over with its draft. */
    window.addEventListener('hashchange', function () { window.location.reload(); });
    var nav = (navigator.language || '').toLowerCase();
    st.lang = nav.indexOf('ko') === 0 || !UI[nav.split('-')[0]] ? 'ko' : nav.split('-')[0];
    $('loading').textContent = ui().loading;
    $('lang-switch').addEventListener('click', switchLanguage);
    if (!st.wave) {
      endPage('not_found');
      return;
    }
    start();
  }

  init();
}());
