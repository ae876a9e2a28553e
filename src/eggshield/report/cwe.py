"""Names of the CWEs in DESIGN.md's map, so reports can say what a number means.

Names are MITRE's CWE titles (https://cwe.mitre.org/). A CWE missing here still
renders, as `CWE-<n>`.
"""

from __future__ import annotations

import uuid

CWE_NAMES: dict[int, str] = {
    20: "Improper Input Validation",
    22: "Improper Limitation of a Pathname to a Restricted Directory ('Path Traversal')",
    78: "Improper Neutralization of Special Elements used in an OS Command ('OS Command Injection')",
    79: "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')",
    89: "Improper Neutralization of Special Elements used in an SQL Command ('SQL Injection')",
    95: "Improper Neutralization of Directives in Dynamically Evaluated Code ('Eval Injection')",
    117: "Improper Output Neutralization for Logs",
    200: "Exposure of Sensitive Information to an Unauthorized Actor",
    209: "Generation of Error Message Containing Sensitive Information",
    276: "Incorrect Default Permissions",
    287: "Improper Authentication",
    307: "Improper Restriction of Excessive Authentication Attempts",
    315: "Cleartext Storage of Sensitive Information in a Cookie",
    319: "Cleartext Transmission of Sensitive Information",
    321: "Use of Hard-coded Cryptographic Key",
    327: "Use of a Broken or Risky Cryptographic Algorithm",
    352: "Cross-Site Request Forgery (CSRF)",
    434: "Unrestricted Upload of File with Dangerous Type",
    489: "Active Debug Code",
    532: "Insertion of Sensitive Information into Log File",
    601: "URL Redirection to Untrusted Site ('Open Redirect')",
    613: "Insufficient Session Expiration",
    614: "Sensitive Cookie in HTTPS Session Without 'Secure' Attribute",
    639: "Authorization Bypass Through User-Controlled Key",
    693: "Protection Mechanism Failure",
    703: "Improper Check or Handling of Exceptional Conditions",
    770: "Allocation of Resources Without Limits or Throttling",
    778: "Insufficient Logging",
    779: "Logging of Excessive Data",
    798: "Use of Hard-coded Credentials",
    862: "Missing Authorization",
    916: "Use of Password Hash With Insufficient Computational Effort",
    918: "Server-Side Request Forgery (SSRF)",
    942: "Permissive Cross-domain Policy with Untrusted Domains",
    943: "Improper Neutralization of Special Elements in Data Query Logic",
    1004: "Sensitive Cookie Without 'HttpOnly' Flag",
    1021: "Improper Restriction of Rendered UI Layers or Frames",
    1104: "Use of Unmaintained Third Party Components",
    1164: "Irrelevant Code",
    1275: "Sensitive Cookie with Improper SameSite Attribute",
    1321: "Improperly Controlled Modification of Object Prototype Attributes ('Prototype Pollution')",
    1395: "Dependency on Vulnerable Third-Party Component",
}

# SARIF references a taxonomy by GUID; CWE has no official one, so derive a stable UUIDv5
# from MITRE's URL: the same value in every run lets consumers merge taxa across runs.
CWE_TAXONOMY_GUID = str(uuid.uuid5(uuid.NAMESPACE_URL, "https://cwe.mitre.org/"))


def cwe_name(cwe: int) -> str:
    """MITRE's title for `cwe`, or `CWE-<n>` when eggshield does not know it."""
    return CWE_NAMES.get(cwe, f"CWE-{cwe}")


def cwe_url(cwe: int) -> str:
    """The MITRE definition page for `cwe`."""
    return f"https://cwe.mitre.org/data/definitions/{cwe}.html"
