"""pw-demod: the testbed's fixture daemon.

It loads libpwdemo.so.1 from the pw-libdemo package and stays running, so that
upgrading pw-libdemo leaves a running process that still maps the replaced
library -- what restart detection (needrestart's method) must find.
"""
import ctypes
import signal
import sys
import time

LIBRARY = "/usr/lib/pw-libdemo/libpwdemo.so.1"

library = ctypes.CDLL(LIBRARY)
sys.stdout.write("pw-demod running with libpwdemo version %d\n" % library.pw_demo_version())
sys.stdout.flush()
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
while True:
    time.sleep(3600)
