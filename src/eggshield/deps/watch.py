"""`deps watch`: turn what changed since the last watch run into notifications.

New advisories for installed versions and new releases of egg, its framework and its plugins
are reported; each carries a de-duplication key, so the outbox never sends one twice to the
same sink even if a later run sees it again.
"""

from __future__ import annotations

from eggshield.notify.model import Notification
from eggshield.store.ledger import Changes


def notifications(app: str, project: str, changes: Changes, first_run: bool) -> list[Notification]:
    out: list[Notification] = []
    for adv in changes.new_advisories:
        fixed = f"fixed in {adv['fixed']}" if adv.get("fixed") else "no fixed release known"
        ident = f"{adv['name']}@{adv['version']}" if adv["version"] else adv["name"]
        out.append(Notification(
            kind="advisory", severity=adv["severity"],
            title=f"{app}: {ident} affected by {adv['advisory']}",
            text=f"{adv['summary']} ({fixed}).\nApp: {project}",
            key=f"advisory:{project}:{adv['advisory']}:{ident}",
            data={"app": app, "project": project, "package": ident, "advisory": adv["advisory"],
                  "fixed": adv.get("fixed"), "first_run": first_run}))
    for name, old, new in changes.new_releases:
        out.append(Notification(
            kind="release", severity="info", title=f"{app}: {name} {new} released (was {old})",
            text=f"A new release of {name} is out: {new} (previous latest {old}). Review its changelog; "
                 f"`eggshield deps {project}` shows how far behind the app is.",
            key=f"release:{project}:{name}@{new}",
            data={"app": app, "project": project, "package": name, "latest": new, "previous": old}))
    return out
