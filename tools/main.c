#include <stdio.h>
#include "rope.h"
int main(void) { printf("rope %s\n", rope_version_string()); return 0; }
