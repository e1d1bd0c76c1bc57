"""Build the pwdemo-service wheel of a given version with the standard library only.

The test set-up needs two wheel versions and must not depend on setuptools/wheel being installed
on the controller; a wheel is a zip with a dist-info directory (PEP 427), so it is written directly.
Usage: build_wheel.py <version> <package source dir> <output dir>
"""
import base64
import hashlib
import os
import sys
import zipfile


def _record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()
    return '%s,sha256=%s,%d' % (name, digest, len(data))


def main(version, source, output):
    dist_info = 'pwdemo_service-%s.dist-info' % version
    files = {}
    for name in sorted(os.listdir(source)):
        if name.endswith('.py'):
            with open(os.path.join(source, name), 'rb') as handle:
                files['pwdemo_service/' + name] = handle.read()
    files[dist_info + '/METADATA'] = ('Metadata-Version: 2.1\nName: pwdemo-service\nVersion: %s\n'
                                      'Summary: app_patch virtualenv test service\n' % version).encode()
    files[dist_info + '/WHEEL'] = b'Wheel-Version: 1.0\nGenerator: build_wheel.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n'
    files[dist_info + '/entry_points.txt'] = b'[console_scripts]\npwdemo-service = pwdemo_service:main\n'
    record = [_record_line(name, data) for name, data in files.items()] + [dist_info + '/RECORD,,']
    files[dist_info + '/RECORD'] = ('\n'.join(record) + '\n').encode()
    path = os.path.join(output, 'pwdemo_service-%s-py3-none-any.whl' % version)
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as wheel:
        for name, data in files.items():
            wheel.writestr(name, data)
    print(path)


if __name__ == '__main__':
    main(*sys.argv[1:])
