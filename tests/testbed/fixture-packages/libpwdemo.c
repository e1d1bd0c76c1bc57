/* The shared library of the pw-libdemo fixture package.  Built without libc
 * (-nostdlib) so one build loads on every Debian release of the testbed. */
int pw_demo_version(void) { return PW_DEMO_VERSION; }
