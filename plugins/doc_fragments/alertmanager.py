# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """Options of the modules talking to Prometheus Alertmanager's v2 API."""

    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the Alertmanager, such as V(http://alertmanager.example.com:9093); with a path prefix when it is
        served behind a proxy. The modules call C(<url>/api/v2/...).
    type: str
    required: true
  url_username:
    description: User name for HTTP basic authentication.
    type: str
  url_password:
    description: Password for HTTP basic authentication (never logged).
    type: str
  bearer_token:
    description: "Token sent as C(Authorization: Bearer <token>) (never logged); takes precedence over O(url_username)."
    type: str
  timeout:
    description: Seconds to wait for each answer of the API.
    type: int
    default: 10
  validate_certs:
    description: Verify the server's TLS certificate.
    type: bool
    default: true
  ca_path:
    description: PEM file of CA certificates to verify the server with, instead of the system's.
    type: path
  host:
    description:
      - The host whose alerts are meant, for the default matcher built from O(host_label) and O(host_pattern).
        Usually V({{ inventory_hostname }}) with the task delegated to the controller.
      - Required unless O(matchers) is given.
    type: str
  host_label:
    description: Label the default matcher tests (regular expression match).
    type: str
    default: instance
  host_pattern:
    description:
      - Regular expression the default matcher applies to O(host_label); V({host}) is replaced by O(host) with its
        regular expression special characters escaped.
      - The default covers targets written as the bare host and as C(host:port), as Prometheus' C(instance) label is.
    type: str
    default: "{host}(:.*)?"
  matchers:
    description:
      - Label matchers replacing the default host matcher, all of which must match.
      - Each is a mapping with C(name), C(value), C(is_regex) (default V(false)) and C(is_equal) (default V(true)),
        or a string in the label-matcher syntax such as V(instance=~"web1(:.*\)?"), V(job="node") or V(env!=test).
    type: list
    elements: raw
notes:
  - Uses Alertmanager's v2 API (Alertmanager 0.16 or later); tested against Alertmanager 0.25.
  - Proxies are taken from the usual C(https_proxy), C(http_proxy) and C(no_proxy) environment variables.
"""
