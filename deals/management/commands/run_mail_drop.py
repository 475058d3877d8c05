"""`manage.py run_mail_drop --host 127.0.0.1 --port 2525`: the SMTP drop service."""

import asyncio
import contextlib
import logging
import signal

from django.core.management.base import BaseCommand, CommandParser

from deals.mail.parsing import MAX_MESSAGE_BYTES
from deals.mail.smtp import DEFAULT_BATCH_SIZE, DEFAULT_BATCH_WAIT, DEFAULT_WORKERS, serve


class Command(BaseCommand):
    help = "Serve the SMTP drop address: captured mail becomes activities on deals."
    # No system checks at start: the checks open no connection, but the drop must not
    # hold one while nothing arrives (the test database is dropped and created under it).
    requires_system_checks: list = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=2525)
        parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
        parser.add_argument(
            "--max-size", type=int, default=MAX_MESSAGE_BYTES, help="bytes per message"
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help="most messages stored in one transaction (each answered after it commits)",
        )
        parser.add_argument(
            "--batch-wait-ms",
            type=float,
            default=DEFAULT_BATCH_WAIT * 1000,
            help="wait this long for more messages before storing a batch (0: at once)",
        )

    def handle(
        self,
        *args,
        host: str,
        port: int,
        workers: int,
        max_size: int,
        batch_size: int,
        batch_wait_ms: float,
        **options,
    ):
        if options["verbosity"] < 2:
            # aiosmtpd logs every SMTP command at INFO: noise, and a cost per message.
            logging.getLogger("mail.log").setLevel(logging.WARNING)

        def ready() -> None:
            self.stdout.write(f"Mail drop listening on {host}:{port}")
            self.stdout.flush()

        async def main() -> None:
            task = asyncio.create_task(
                serve(
                    host,
                    port,
                    workers=workers,
                    max_size=max_size,
                    batch_size=batch_size,
                    batch_wait=batch_wait_ms / 1000,
                    on_ready=ready,
                )
            )
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, task.cancel)
            with contextlib.suppress(asyncio.CancelledError):
                await task

        asyncio.run(main())
        self.stdout.write("Mail drop stopped.")
