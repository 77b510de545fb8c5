"""The reference for scripts/bench.d/30-bot.sh and 50-footprint.sh: an aiogram 3 bot answering
/balance by webhook.

Built the way aiogram's documentation shows a webhook bot: one process, aiohttp's web server with
aiogram's SimpleRequestHandler, the webhook registered at start-up with a secret token, an asyncpg
pool opened at start-up. The /balance handler does what ours does for the user: one read of the
balance from PostgreSQL, one sendMessage. The update is answered after the handler ran
(handle_in_background=False), as ours answers only once the update is handled, so both figures are
an update's full round trip.

Environment: BOT_TOKEN, TELEGRAM_API_URL (the fake Telegram's base URL), DATABASE_URL (its own
scratch database with a `balances` table), WEBHOOK_URL, WEBHOOK_SECRET, PORT.
"""

import logging
import os

import asyncpg
from aiohttp import web

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application

dp = Dispatcher()


@dp.message(Command("balance"))
async def balance(message: Message, pool: asyncpg.Pool) -> None:
    row = await pool.fetchrow(
        "SELECT available, held FROM balances WHERE telegram_id = $1", message.from_user.id
    )
    available, held = (row["available"], row["held"]) if row else (0, 0)
    await message.answer(f"Balance: {available} credits ({held} reserved)")


@dp.startup()
async def on_startup(bot: Bot, dispatcher: Dispatcher) -> None:
    dispatcher["pool"] = await asyncpg.create_pool(os.environ["DATABASE_URL"])
    await bot.set_webhook(os.environ["WEBHOOK_URL"], secret_token=os.environ["WEBHOOK_SECRET"])


@dp.shutdown()
async def on_shutdown(dispatcher: Dispatcher) -> None:
    await dispatcher["pool"].close()


def main() -> None:
    # Warnings only: a log line per update would cost it what it would cost us.
    logging.basicConfig(level=logging.WARNING)
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"]))
    bot = Bot(os.environ["BOT_TOKEN"], session=session)
    app = web.Application()
    SimpleRequestHandler(
        dispatcher=dp, bot=bot, secret_token=os.environ["WEBHOOK_SECRET"], handle_in_background=False
    ).register(app, path="/webhook")
    setup_application(app, dp, bot=bot)
    web.run_app(app, host="127.0.0.1", port=int(os.environ["PORT"]), print=None)


if __name__ == "__main__":
    main()
