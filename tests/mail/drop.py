"""The mail drop the SMTP tests send to.

`.ci/run` starts `manage.py run_mail_drop` on 127.0.0.1 against the test database and
exports MAIL_DROP_SMTP=host:port and MAIL_DROP_DATABASE=<its database name>. When that
is absent (a local `make test`) or writes to another database, the tests start the same
server (deals.mail.smtp) in-process on a free port.
"""

import contextlib
import os
import socket
from concurrent.futures import ThreadPoolExecutor

from django.db import connection

from deals.mail.smtp import DropHandler, build_smtp


def external_drop() -> tuple[str, int] | None:
    address = os.environ.get("MAIL_DROP_SMTP", "")
    if not address or os.environ.get("MAIL_DROP_DATABASE") != connection.settings_dict["NAME"]:
        return None
    host, _, port = address.rpartition(":")
    return host, int(port)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_drop():
    """Yield (host, port, in_process)."""
    external = external_drop()
    if external is not None:
        yield (*external, False)
        return
    from aiosmtpd.controller import Controller
    from django.db import connections

    # The drop's threads close their connections after each delivery, as the real drop
    # does with CONN_MAX_AGE=0, so none is left open on the test database.
    db_settings = connections.settings[connection.alias]
    previous_max_age = db_settings.get("CONN_MAX_AGE", 0)
    db_settings["CONN_MAX_AGE"] = 0

    executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-mail-drop")
    handler = DropHandler(executor)

    class _Controller(Controller):
        def factory(self):
            return build_smtp(handler)

    controller = _Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller.hostname, controller.port, True
    finally:
        controller.stop()
        executor.shutdown(wait=True)
        db_settings["CONN_MAX_AGE"] = previous_max_age
        # Eager tasks run in two threads at once can leave Celery's process-wide "inside
        # a task" flag set (each restores what it saw); later tests call result.get().
        from celery._state import _set_task_join_will_block

        _set_task_join_will_block(False)
