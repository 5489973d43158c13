#include "testlib.h"
static void t(void){CHECK(1);}
TEST_MAIN(TEST_CASE(t))
