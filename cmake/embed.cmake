# Helpers for the scripts that embed files into the binaries as C arrays
# (admin-cli/embed_migrations.cmake, daemon/embed_web.cmake), included in their -P runs.

# embed_bytes(FILE BYTES_VAR LEN_VAR): the file's bytes as C initialisers ("0xNN," sixteen a
# line) and its length; an empty file is an error (what "what" names in the message).
function(embed_bytes file what bytes_var len_var)
  file(READ ${file} hex HEX)
  string(LENGTH "${hex}" hex_len)
  math(EXPR len "${hex_len} / 2")
  if(len EQUAL 0)
    message(FATAL_ERROR "${what} is empty")
  endif()
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REPEAT "0x[0-9a-f][0-9a-f]," 16 sixteen)
  string(REGEX REPLACE "(${sixteen})" "\\1\n    " bytes "${bytes}")
  set(${bytes_var} "${bytes}" PARENT_SCOPE)
  set(${len_var} ${len} PARENT_SCOPE)
endfunction()

# embed_write(OUTPUT TEXT): write only when the text changed, so an unchanged set of files does
# not rebuild the binary.
function(embed_write output text)
  if(EXISTS ${output})
    file(READ ${output} old)
    if(old STREQUAL text)
      return()
    endif()
  endif()
  file(WRITE ${output} "${text}")
endfunction()
