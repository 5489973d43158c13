# Generates the C source that embeds migrations/NNNN_name.sql into survey-admin.
# Run as: cmake -DMIGRATIONS_DIR=<dir> -DOUTPUT=<file.inc> -P embed_migrations.cmake
# The files are taken in name order; each name must be NNNN_name.sql with a distinct NNNN.
cmake_minimum_required(VERSION 3.25)
include(${CMAKE_CURRENT_LIST_DIR}/../cmake/embed.cmake)

file(GLOB files RELATIVE ${MIGRATIONS_DIR} ${MIGRATIONS_DIR}/*.sql)
list(SORT files)
if(NOT files)
  message(FATAL_ERROR "no migrations in ${MIGRATIONS_DIR}")
endif()

set(out "/* Generated from the migrations directory by admin-cli/embed_migrations.cmake: do not edit. */\n")
set(table "")
set(previous 0)
foreach(f IN LISTS files)
  if(NOT f MATCHES "^([0-9][0-9][0-9][0-9])_([a-z0-9_]+)\\.sql$")
    message(FATAL_ERROR "migration file name ${f} is not NNNN_name.sql (name in [a-z0-9_])")
  endif()
  set(digits ${CMAKE_MATCH_1})
  string(REGEX REPLACE "^0+" "" version "${digits}")
  if(version STREQUAL "")
    message(FATAL_ERROR "migration ${f}: versions start at 0001")
  endif()
  if(NOT version GREATER previous)
    message(FATAL_ERROR "migration ${f}: version ${version} is used twice")
  endif()
  set(previous ${version})
  string(REGEX REPLACE "\\.sql$" "" name "${f}")

  embed_bytes(${MIGRATIONS_DIR}/${f} "migration ${f}" bytes len)
  if(bytes MATCHES "0x00,")
    message(FATAL_ERROR "migration ${f} contains a NUL byte")
  endif()
  string(APPEND out "\nstatic const unsigned char migration_${digits}_sql[] = {\n    ${bytes}0x00};\n")
  string(APPEND table "    {${version}, \"${name}\", (const char *)migration_${digits}_sql, ${len}},\n")
endforeach()

string(APPEND out "\nstatic const struct migration migrations_table[] = {\n${table}};\n")

embed_write(${OUTPUT} "${out}")
