"""Offline replacement for ansible-test's pip bootstrap download.

ansible-test creates its virtual environments without pip and then runs a
``get-pip`` script fetched from ci-files.testing.ansible.com, a host that is not
reachable from every build machine.  This script does the same job with what
every CPython already carries: ``ensurepip`` installs the bundled pip, and that
pip then installs the exact packages ansible-test asked for from the package
index the machine is configured to use.

setup-venv.sh copies it into ansible-test's cache only when the real script
cannot be downloaded, so machines with internet access keep using the original.
"""

import subprocess
import sys

# get-pip.py's own options; everything else is handed to pip.
OWN_OPTIONS = {'--no-setuptools': 'setuptools', '--no-wheel': 'wheel'}

unwanted = [OWN_OPTIONS[arg] for arg in sys.argv[1:] if arg in OWN_OPTIONS]
pip_args = [arg for arg in sys.argv[1:] if arg not in OWN_OPTIONS]

# ensurepip runs in a child process: in-process it points PIP_CONFIG_FILE at
# /dev/null, which would hide the machine's pip.conf (index URL, certificates)
# from the install below.
subprocess.check_call([sys.executable, '-m', 'ensurepip', '--default-pip'])
status = subprocess.call([sys.executable, '-m', 'pip', 'install', '--upgrade', *pip_args])
if status == 0 and unwanted:
    # Older Pythons' ensurepip also installs setuptools; get-pip.py would not.
    status = subprocess.call([sys.executable, '-m', 'pip', 'uninstall', '--yes', '--quiet', *unwanted])
sys.exit(status)
