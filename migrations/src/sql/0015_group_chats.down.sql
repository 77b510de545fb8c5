DROP TABLE group_chats;
