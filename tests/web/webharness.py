"""
The harness of the web form's browser tests: a temporary directory with a self-signed
certificate, the test's own database (migrated, with a login role for the daemon, waves and
invitations made with survey-admin), a real surveyd, and a headless Debian chromium driven over
the Chrome DevTools Protocol. Every wait is on a condition (a log line, a DOM state, a protocol
event) and has a deadline; nothing sleeps. Every page of every test reports its
Content-Security-Policy violations (a `securitypolicyviolation` listener calling a DevTools
binding), and a test with any fails.

Run through ctest (survey_pg_test): argv[1] is surveyd; SURVEY_TEST_DB, SURVEY_ADMIN,
SURVEY_SOURCE_DIR and SURVEY_ARTIFACTS come from the environment.
"""
import base64
import json
import os
import select
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

import websocket

QUESTIONNAIRE = "questionnaire/definitions/genai-adoption-2025.json"


class TestFailure(Exception):
    pass


def check(cond, what):
    """Assert with a message that says which behaviour failed."""
    if not cond:
        raise TestFailure(what)
    print("ok - " + what, flush=True)


def deadline_after(seconds):
    return time.monotonic() + seconds


def left(deadline):
    return max(0.0, deadline - time.monotonic())


class Env:
    """The temporary directory, the certificate and the database of one test."""

    def __init__(self):
        self.surveyd = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SURVEYD")
        self.admin = os.environ["SURVEY_ADMIN"]
        self.db = os.environ["SURVEY_TEST_DB"]
        self.source = os.environ["SURVEY_SOURCE_DIR"]
        self.dir = tempfile.mkdtemp(prefix="web-test.")
        self.cert = os.path.join(self.dir, "cert.pem")
        self.key = os.path.join(self.dir, "key.pem")
        self.role = "web%d" % os.getpid()
        self.daemons = []
        self.browsers = []
        self._run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                   "ec_paramgen_curve:P-256", "-nodes", "-keyout", self.key, "-out", self.cert,
                   "-days", "2", "-subj", "/CN=localhost", "-addext",
                   "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        self.admin_cli("migrate")
        self.sql('DROP ROLE IF EXISTS "%s"' % self.role)
        self.sql('CREATE ROLE "%s" LOGIN IN ROLE survey_daemon' % self.role)

    def _run(self, argv, timeout=60):
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=timeout)
        if r.returncode != 0:
            raise TestFailure("%s failed (%d): %s%s" % (argv[0], r.returncode, r.stdout, r.stderr))
        return r.stdout

    def admin_cli(self, *args):
        return self._run([self.admin] + list(args) + ["--db", self.db])

    def sql(self, query):
        """Run one statement as the test database's superuser; rows as lists of text. The
        tests build statements only from their own literals (wave ids, uuids)."""
        out = self._run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-F", "\t",
                         "-d", self.db, "-c", query], timeout=30)
        return [line.split("\t") for line in out.splitlines() if line != ""]

    def wave(self, wave, access="invite", status="open"):
        self.admin_cli("wave", "create", wave, "--questionnaire",
                       os.path.join(self.source, QUESTIONNAIRE), "--access", access)
        if status != "draft":
            self.admin_cli("wave", "open", wave)
        if status == "closed":
            self.admin_cli("wave", "close", wave)

    def invite(self, wave, count=1):
        path = os.path.join(self.dir, "invite-%s-%d.csv" % (wave, len(os.listdir(self.dir))))
        self.admin_cli("invite", wave, "--count", str(count), "--out", path)
        with open(path) as f:
            rows = [line.split(",")[0] for line in f.read().splitlines()[1:] if line]
        if len(rows) != count:
            raise TestFailure("invite wrote %d tokens, not %d" % (len(rows), count))
        return rows

    def responses(self, wave):
        """Every stored response of the wave: (submission_id, answers dict, screened_out)."""
        rows = self.sql("SELECT submission_id, answers::text, screened_out FROM survey.responses "
                        "WHERE wave_id = '%s' ORDER BY id" % wave)
        return [(r[0], json.loads(r[1]), r[2] == "t") for r in rows]

    def close(self):
        for b in self.browsers:
            b.close()
        for d in self.daemons:
            d.stop()
        try:
            self.sql('DROP ROLE IF EXISTS "%s"' % self.role)
        except Exception as e:  # the database is dropped anyway when the test passes
            print("warning: could not drop role: %s" % e, file=sys.stderr)
        shutil.rmtree(self.dir, ignore_errors=True)

    def daemon_db(self):
        return self.db + " user=" + self.role

    def start_surveyd(self, *args):
        d = Surveyd(self, args=args)
        self.daemons.append(d)
        return d

    def start_browser(self, lang="ko-KR"):
        b = Browser(self, lang)
        self.browsers.append(b)
        return b


class Surveyd:
    """One surveyd child on a free loopback port; a thread reads its log from a pipe."""

    def __init__(self, env, port=None, args=()):
        self.env = env
        for attempt in range(3):
            self.port = port or free_port()
            self.log = b""
            self.cv = threading.Condition()
            self.proc = subprocess.Popen(
                [env.surveyd, "--cert", env.cert, "--key", env.key, "--listen",
                 "127.0.0.1:%d" % self.port, "--db", env.daemon_db(), "--threads", "1"] +
                list(args),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            self.reader = threading.Thread(target=self._read_log, daemon=True)
            self.reader.start()
            try:
                # Ready = the worker has its waves and its own database connection (the two
                # are logged independently, in either order); /readyz confirms below.
                self.wait_log(b"waves installed", 30)
                self.wait_log(b"[w1] database connected", 30)
                break
            except TestFailure:
                taken = b"could not listen" in self.log
                self.stop()
                if not taken or port is not None or attempt == 2:
                    sys.stderr.write(self.log.decode(errors="replace"))
                    raise
        status, _, _ = https_request(self.port, "GET", "/readyz")
        if status != 200:
            raise TestFailure("surveyd logged its readiness but /readyz answered %d" % status)

    def _read_log(self):
        fd = self.proc.stderr.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            with self.cv:
                if chunk:
                    self.log += chunk
                else:
                    self.eof = True
                self.cv.notify_all()
            if not chunk:
                return

    def wait_log(self, needle, seconds):
        """Wait until needle is in the daemon's log; fail if it exits or time runs out."""
        deadline = deadline_after(seconds)
        with self.cv:
            while needle not in self.log:
                if getattr(self, "eof", False):
                    raise TestFailure("surveyd exited before logging %r" % needle)
                if left(deadline) == 0:
                    raise TestFailure("surveyd did not log %r within %d s" % (needle, seconds))
                self.cv.wait(left(deadline))

    def stop(self):
        """SIGTERM and wait: the exit status (an error under ASan or UBSan makes it non-zero)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.reader.join(10)
        self.proc.stderr.close()
        return self.proc.returncode

    def url(self, path):
        return "https://localhost:%d%s" % (self.port, path)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def https_request(port, method, path, body=None, headers=None, timeout=10):
    """One request over TLS with http.client: (status, headers dict lower-cased, body bytes)."""
    import http.client
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        c.close()


class Browser:
    """Headless chromium with one page, spoken to over the DevTools Protocol."""

    def __init__(self, env, lang):
        self.profile = tempfile.mkdtemp(prefix="chromium.", dir=env.dir)
        self.proc = subprocess.Popen(
            ["/usr/bin/chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--disable-extensions",
             "--remote-debugging-port=0", "--user-data-dir=" + self.profile,
             "--ignore-certificate-errors", "--lang=" + lang, "--accept-lang=" + lang,
             "--window-size=1280,900", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        ws_url = self._wait_devtools(30)
        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events = []
        self.mouse_events = 0
        self.new_tab()

    CSP_BINDING = "surveyTestCspViolation"
    CSP_LISTENER = """document.addEventListener('securitypolicyviolation', function (e) {
        window.%s(JSON.stringify({directive: e.violatedDirective, blocked: e.blockedURI,
                                  page: e.documentURI, source: e.sourceFile, line: e.lineNumber}));
    }, true);"""

    def new_tab(self):
        """A new page (the tests' "closed tab, opened again"), with the CSP listener installed in
        every document it will load."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Network"):
            self.page(domain + ".enable")
        self.page("Network.setCacheDisabled", {"cacheDisabled": False})
        self.page("Runtime.addBinding", {"name": self.CSP_BINDING})
        self.page("Page.addScriptToEvaluateOnNewDocument",
                  {"source": self.CSP_LISTENER % self.CSP_BINDING})

    def csp_violations(self):
        """The violations reported so far (a round trip first, so that every event sent before
        it has been read)."""
        self.page("Runtime.evaluate", {"expression": "1"})
        return [json.loads(m["params"]["payload"]) for m in self.events
                if m.get("method") == "Runtime.bindingCalled"
                and m.get("params", {}).get("name") == self.CSP_BINDING]

    def forget_csp_violations(self):
        self.events = [m for m in self.events if not (
            m.get("method") == "Runtime.bindingCalled"
            and m.get("params", {}).get("name") == self.CSP_BINDING)]

    def _wait_devtools(self, seconds):
        """chromium prints "DevTools listening on ws://..." and writes DevToolsActivePort."""
        deadline = deadline_after(seconds)
        fd = self.proc.stderr.fileno()
        buf = b""
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        while True:
            if os.path.exists(port_file):
                with open(port_file) as f:
                    lines = f.read().split("\n")
                if len(lines) >= 2 and lines[1]:
                    return "ws://127.0.0.1:%s%s" % (lines[0], lines[1])
            r, _, _ = select.select([fd], [], [], min(0.1, left(deadline)))
            if r:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise TestFailure("chromium exited: %s" % buf.decode(errors="replace"))
                buf += chunk
            if left(deadline) == 0:
                raise TestFailure("chromium did not open its DevTools port: %s" %
                                  buf.decode(errors="replace"))

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc.stderr.close()

    # ---- the protocol ----------------------------------------------------------------------

    def call(self, method, params=None, session=None, timeout=30):
        self.next_id += 1
        mid = self.next_id
        msg = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        deadline = deadline_after(timeout)
        while True:
            m = self._read(deadline, method)
            if m.get("id") == mid:
                if "error" in m:
                    raise TestFailure("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.events.append(m)

    def page(self, method, params=None, timeout=30):
        return self.call(method, params, self.session, timeout)

    def _read(self, deadline, what):
        self.ws.settimeout(max(0.01, left(deadline)))
        try:
            return json.loads(self.ws.recv())
        except websocket.WebSocketTimeoutException:
            raise TestFailure("no answer from chromium for %s in time" % what)

    def wait_event(self, method, pred=lambda p: True, seconds=20):
        """The first event named method (already received or arriving) whose params match."""
        deadline = deadline_after(seconds)
        while True:
            for i, m in enumerate(self.events):
                if m.get("method") == method and pred(m.get("params", {})):
                    del self.events[i]
                    return m["params"]
            if left(deadline) == 0:
                raise TestFailure("no %s event within %d s" % (method, seconds))
            self.events.append(self._read(deadline, method))

    def drop_events(self, method):
        self.events = [m for m in self.events if m.get("method") != method]

    # ---- the page --------------------------------------------------------------------------

    def goto(self, url, seconds=20):
        self.drop_events("Page.loadEventFired")
        r = self.page("Page.navigate", {"url": url})
        if r.get("errorText"):
            raise TestFailure("could not open %s: %s" % (url, r["errorText"]))
        self.wait_event("Page.loadEventFired", seconds=seconds)

    def reload(self, seconds=20):
        self.drop_events("Page.loadEventFired")
        self.page("Page.reload", {"ignoreCache": False})
        self.wait_event("Page.loadEventFired", seconds=seconds)

    def js(self, expr, seconds=20):
        """Evaluate expr in the page (awaiting a promise); its JSON value."""
        r = self.page("Runtime.evaluate", {"expression": expr, "returnByValue": True,
                                           "awaitPromise": True, "timeout": seconds * 1000},
                      timeout=seconds + 5)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise TestFailure("script failed: %s" % (d.get("exception", {}).get("description")
                                                     or d.get("text")))
        return r["result"].get("value")

    def wait_for(self, cond, what, seconds=15):
        """Wait until the JS expression cond is true: checked now and on every DOM change."""
        expr = """new Promise((resolve, reject) => {
            const test = () => { try { return !!(%s); } catch (e) { return false; } };
            if (test()) { resolve(true); return; }
            const mo = new MutationObserver(() => { if (test()) { mo.disconnect(); clearTimeout(t); resolve(true); } });
            mo.observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
            const t = setTimeout(() => { mo.disconnect(); resolve(test()); }, %d);
        })""" % (cond, int(seconds * 1000))
        ok = self.js(expr, seconds + 5)
        if not ok:
            raise TestFailure("timed out waiting for: " + what)
        return True

    def click(self, selector):
        """A real mouse click at the middle of the element (scrolled into view)."""
        box = self.js("""(() => { const e = document.querySelector(%s);
            if (!e) return null; e.scrollIntoView({block: 'center'});
            const r = e.getBoundingClientRect();
            return [r.left + r.width / 2, r.top + r.height / 2, r.width, r.height]; })()""" %
                      json.dumps(selector))
        if not box or box[2] == 0 or box[3] == 0:
            raise TestFailure("nothing visible to click at %s" % selector)
        self.mouse_events += 1
        for kind in ("mousePressed", "mouseReleased"):
            self.page("Input.dispatchMouseEvent", {"type": kind, "x": box[0], "y": box[1],
                                                   "button": "left", "clickCount": 1})

    def type_into(self, selector, text):
        self.click(selector)
        self.js("document.querySelector(%s).select && document.querySelector(%s).select()" %
                (json.dumps(selector), json.dumps(selector)))
        self.page("Input.insertText", {"text": text})

    KEYS = {
        "Tab": (9, "Tab", None), "Enter": (13, "Enter", "\r"), " ": (32, "Space", " "),
        "ArrowDown": (40, "ArrowDown", None), "ArrowUp": (38, "ArrowUp", None),
        "ArrowRight": (39, "ArrowRight", None),
    }

    def key(self, key, shift=False):
        vk, code, text = self.KEYS[key]
        down = {"type": "keyDown" if text else "rawKeyDown", "key": key, "code": code,
                "windowsVirtualKeyCode": vk, "modifiers": 8 if shift else 0}
        if text:
            down["text"] = text
        self.page("Input.dispatchKeyEvent", down)
        self.page("Input.dispatchKeyEvent", {"type": "keyUp", "key": key, "code": code,
                                             "windowsVirtualKeyCode": vk,
                                             "modifiers": 8 if shift else 0})

    def layout_width(self, width):
        """The document's scroll width with the viewport at width CSS pixels (a phone when
        narrow): more than width means horizontal scrolling."""
        self.page("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": 800, "deviceScaleFactor": 1, "mobile": width < 600})
        try:
            return self.js("document.documentElement.scrollWidth")
        finally:
            self.page("Emulation.clearDeviceMetricsOverride")

    def screenshot(self, path, width):
        """A full-page PNG at width CSS pixels; returns its bytes."""
        self.page("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": 800, "deviceScaleFactor": 1, "mobile": width < 600})
        height = self.js("Math.ceil(document.documentElement.scrollHeight)")
        shot = self.page("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": max(200, height), "scale": 1}})
        data = base64.b64decode(shot["data"])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        self.page("Emulation.clearDeviceMetricsOverride")
        return data


def png_facts(data):
    """(width, height, distinct byte values of the decoded scanlines) of a PNG, or raises."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise TestFailure("not a PNG")
    pos, width, height, idat = 8, 0, 0, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", chunk[:8])
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + n
    raw = zlib.decompress(idat)
    return width, height, len(set(raw))


def check_screenshot(data, width, what):
    w, h, distinct = png_facts(data)
    check(w == width and h >= 200 and len(data) > 8000 and distinct > 40,
          "%s: a %dx%d PNG of %d bytes with %d distinct byte values" % (
              what, w, h, len(data), distinct))


def artifacts_dir():
    return os.environ.get("SURVEY_ARTIFACTS") or os.path.join(tempfile.gettempdir(), "web-artifacts")


# ---- the bundled questionnaire, filled in the way a respondent does ---------------------------

FORM_READY = "document.querySelector('#form') && document.querySelector('#section-0:not([hidden])')"
ANY_SECTION = "document.querySelector('#form') && document.querySelector('section[data-section]:not([hidden])')"


def open_form(browser, daemon, wave, token=None, extra=""):
    url = daemon.url("/s/%s%s%s" % (wave, "?t=" + token if token else "", extra))
    browser.goto(url)
    return url


def visible_section(browser):
    return browser.js("(() => { const s = document.querySelector('section[data-section]:not([hidden])');"
                      " return s ? Number(s.dataset.section) : -1; })()")


def choose(browser, qid, code):
    browser.click("#question-%s input[value=%s]" % (qid, json.dumps(code)))


def next_page(browser):
    """Press Next and wait for the next section (or the end page) to be shown."""
    before = visible_section(browser)
    browser.click("#next")
    browser.wait_for("document.querySelector('#end') || (document.querySelector("
                     "'section[data-section]:not([hidden])') && Number(document.querySelector("
                     "'section[data-section]:not([hidden])').dataset.section) !== %d)" % before,
                     "the page after section %d" % before)


def fill(browser, answers, submit=True):
    """Answer the bundled questionnaire section by section with mouse clicks and typing."""
    browser.wait_for(ANY_SECTION, "a section of the form")
    for _ in range(12):
        if browser.js("!!document.querySelector('#end')"):
            return
        sec = visible_section(browser)
        qids = browser.js("[...document.querySelectorAll('section[data-section=\"%d\"] .question:not([hidden])')]"
                          ".map(e => e.dataset.q)" % sec)
        for qid in qids:
            if qid not in answers:
                continue
            v = answers[qid]
            if isinstance(v, list):
                for code in v:
                    choose(browser, qid, code)
            elif qid in ("genai_budget_share", "comments", "contact_email"):
                browser.type_into("#q-" + qid, str(v))
            else:
                choose(browser, qid, v)
            # A choice may show a question further down this section (skip logic).
            for extra in browser.js("[...document.querySelectorAll('section[data-section=\"%d\"] "
                                    ".question:not([hidden])')].map(e => e.dataset.q)" % sec):
                if extra not in qids:
                    qids.append(extra)
        last = browser.js("document.querySelector('#next').textContent") in ("제출", "Submit")
        if last and not submit:
            return
        if last:
            browser.click("#next")
            return
        next_page(browser)
    raise TestFailure("the form did not end after 12 pages")


FULL_ANSWERS = {
    "role": "c_level",
    "industry": "finance",
    "company_size": "large",
    "region": "seoul",
    "genai_stage": "experimenting",
    "use_cases": ["customer_service", "analytics"],
    "budget_top_priority": "genai",
    "genai_budget_share": "12.5",
    "caio": "appointed",
    "change_mgmt": "planned_2025",
    "training": "in_place",
    "hiring_genai_2025": "yes",
    "approach": ["general_purpose", "fine_tune_own_data"],
    "comments": "생성형 AI 도입을 확대하고 있습니다.",
}


def stored_form(answers):
    """The answers as the server must store them: numbers as numbers."""
    out = dict(answers)
    if "genai_budget_share" in out:
        out["genai_budget_share"] = float(out["genai_budget_share"])
    return out


def run(test):
    """Run test(env) and turn the outcome into an exit status; always clean up."""
    env = None
    try:
        env = Env()
        test(env)
        for b in env.browsers:
            v = b.csp_violations()
            check(not v, "no Content-Security-Policy violation on any page%s" % (
                "" if not v else ": " + json.dumps(v)))
        for d in env.daemons:
            check(d.stop() == 0, "surveyd stopped cleanly with status 0")
        print("PASS", flush=True)
        return 0
    except TestFailure as e:
        print("not ok - %s" % e, flush=True)
        for d in (env.daemons if env else []):
            sys.stderr.write("---- surveyd log ----\n" + d.log.decode(errors="replace")[-4000:])
        return 1
    finally:
        if env:
            env.close()
