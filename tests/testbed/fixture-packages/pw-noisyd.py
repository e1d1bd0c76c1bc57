"""pw-noisyd: the testbed's fixture daemon whose security update makes it log errors.

The package build writes its version and how many errors it logs per burst to
/usr/lib/pw-noisyd/settings: none for the release version, more for the
update, so a patch run's log check sees the service's errors rise after the
change.  Lines start with a syslog priority prefix (<3> error, <6> info),
which journald reads from a unit's output.
"""
import signal
import sys
import time

with open("/usr/lib/pw-noisyd/settings", encoding="utf-8") as settings:
    VERSION, ERRORS_PER_BURST = settings.read().split()

signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
sys.stdout.write("<6>pw-noisyd %s running\n" % VERSION)
sys.stdout.flush()
while True:
    for number in range(int(ERRORS_PER_BURST)):
        sys.stdout.write("<3>pw-noisyd %s: cannot open /etc/pw-noisyd/backend.conf (attempt %d)\n" % (VERSION, number + 1))
    sys.stdout.flush()
    time.sleep(5)
