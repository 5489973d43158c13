# Generates the C source that embeds the web form's files (web/) into surveyd, so that a
# deployment serves exactly the files it was built with and no request can reach the file system.
# Run as: cmake -DWEB_DIR=<dir> -DOUTPUT=<file.inc> -P embed_web.cmake
# Every file of the directory is taken (no subdirectories); names are [a-z0-9_.-] with a known
# extension, which gives the Content-Type. The ETag is a prefix of the file's SHA-256.
cmake_minimum_required(VERSION 3.25)
include(${CMAKE_CURRENT_LIST_DIR}/../cmake/embed.cmake)

file(GLOB files LIST_DIRECTORIES false RELATIVE ${WEB_DIR} ${WEB_DIR}/*)
list(SORT files)
if(NOT files)
  message(FATAL_ERROR "no files in ${WEB_DIR}")
endif()

set(types_html "text/html; charset=utf-8")
set(types_css "text/css; charset=utf-8")
set(types_js "text/javascript; charset=utf-8")
set(types_svg "image/svg+xml")
set(types_txt "text/plain; charset=utf-8")

set(out "/* Generated from web/ by daemon/embed_web.cmake: do not edit. */\n")
set(table "")
set(i 0)
foreach(f IN LISTS files)
  if(NOT f MATCHES "^[a-z0-9][a-z0-9_-]*\\.(html|css|js|svg|txt)$")
    message(FATAL_ERROR "web file name ${f} is not [a-z0-9_-].(html|css|js|svg|txt)")
  endif()
  set(ext ${CMAKE_MATCH_1})
  embed_bytes(${WEB_DIR}/${f} "web file ${f}" bytes len)
  file(SHA256 ${WEB_DIR}/${f} digest)
  string(SUBSTRING "${digest}" 0 20 etag)
  string(APPEND out "\nstatic const unsigned char web_file_${i}[] = {\n    ${bytes}0x00};\n")
  if(ext STREQUAL "html")
    set(html true)
  else()
    set(html false)
  endif()
  string(APPEND table "    {\"${f}\", \"${types_${ext}}\", \"\\\"${etag}\\\"\", "
                      "(const char *)web_file_${i}, ${len}, ${html}},\n")
  math(EXPR i "${i} + 1")
endforeach()

string(APPEND out "\nstatic const struct webstatic_file web_files[] = {\n${table}};\n")

embed_write(${OUTPUT} "${out}")
