"""``manage.py consoleproxy``: run the browser console's WebSocket proxy (``apps.instances.consoleproxy``)."""

from __future__ import annotations

import asyncio
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.instances.consoleproxy import start_proxy


class Command(BaseCommand):
    help = "Serve ws://HOST:PORT/console/<ticket>: browser consoles bridged to Proxmox vncwebsocket."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8010)

    def handle(self, *args: Any, **options: Any) -> None:
        async def main() -> None:
            server = await start_proxy(options["host"], options["port"])
            self.stdout.write(f"console proxy on ws://{options['host']}:{options['port']}/console/<ticket>")
            await server.serve_forever()

        asyncio.run(main())
