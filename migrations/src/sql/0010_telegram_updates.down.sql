DROP TABLE telegram_updates;
