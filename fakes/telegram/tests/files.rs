//! Files both ways: media updates parse in teloxide, getFile + download return the
//! registered bytes, and documents and photos the bot uploads are kept.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fake_telegram::{AudioMeta, FakeTelegram};
use teloxide::net::Download;
use teloxide::prelude::*;
use teloxide::types::{FileId, InputFile, UpdateKind};
use teloxide::{ApiError, RequestError};

fn bot(tg: &FakeTelegram) -> Bot {
    Bot::new(tg.token()).set_api_url(tg.api_url())
}

async fn download(bot: &Bot, file_id: &str) -> Vec<u8> {
    let file = bot.get_file(FileId(file_id.to_owned())).await.unwrap();
    let mut dst = Vec::new();
    bot.download_file(&file.path, &mut dst).await.unwrap();
    dst
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(&width.to_be_bytes());
    png.extend_from_slice(&height.to_be_bytes());
    png.extend_from_slice(&[8, 2, 0, 0, 0]);
    png
}

#[tokio::test]
async fn registered_voice_downloads_through_get_file() {
    let tg = FakeTelegram::start().await;
    let bot = bot(&tg);
    let user = tg.user(20, "Ann", Some("en"));
    let bytes = b"OggS fake voice".to_vec();
    let voice = tg.register_file(bytes.clone(), "audio/ogg", Some(7));
    assert_eq!(voice.file_unique_id, tg.register_file(bytes.clone(), "audio/ogg", None).file_unique_id);
    user.send_voice(&voice).unwrap();

    let updates = bot.get_updates().await.unwrap();
    let UpdateKind::Message(msg) = &updates[0].kind else { panic!() };
    let v = msg.voice().unwrap();
    assert_eq!(v.duration.seconds(), 7);
    assert_eq!(v.file.id.0, voice.file_id);
    assert_eq!(v.file.size, bytes.len() as u32);
    assert_eq!(v.mime_type.as_ref().map(|m| m.essence_str().to_owned()).as_deref(), Some("audio/ogg"));

    let file = bot.get_file(v.file.id.clone()).await.unwrap();
    assert!(file.path.starts_with("voice/") && file.path.ends_with(".oga"), "{}", file.path);
    assert_eq!(download(&bot, &voice.file_id).await, bytes);
}

#[tokio::test]
async fn files_over_the_download_limit_are_too_big() {
    let tg = FakeTelegram::start().await;
    let bot = bot(&tg);
    tg.set_download_limit(10);
    let big = tg.register_file(vec![0u8; 11], "audio/mpeg", None);
    let small = tg.register_file(vec![1u8; 10], "audio/mpeg", None);
    let err = bot.get_file(FileId(big.file_id)).await.unwrap_err();
    assert!(
        matches!(&err, RequestError::Api(ApiError::Unknown(text)) if text == "Bad Request: file is too big"),
        "{err:?}"
    );
    assert_eq!(download(&bot, &small.file_id).await, vec![1u8; 10]);

    let err = bot.get_file(FileId("nope".into())).await.unwrap_err();
    assert!(format!("{err}").contains("invalid file_id"), "{err}");
}

#[tokio::test]
async fn every_media_kind_parses_in_teloxide() {
    let tg = FakeTelegram::start().await;
    let bot = bot(&tg);
    let user = tg.user(21, "Ann", None);
    let audio = tg.register_file(b"ID3 audio".to_vec(), "audio/mpeg", Some(125));
    let note = tg.register_file(b"note".to_vec(), "video/mp4", Some(12));
    let video = tg.register_file(b"video".to_vec(), "video/mp4", Some(30));
    let doc = tg.register_file(b"RIFF wav".to_vec(), "audio/x-wav", None);
    let photo = tg.register_file(png(1600, 1200), "image/png", None);

    let meta = AudioMeta {
        title: Some("Song".into()),
        performer: Some("Band".into()),
        file_name: Some("song.mp3".into()),
    };
    user.send_audio(&audio, &meta).unwrap();
    user.send_video_note(&note).unwrap();
    user.send_video(&video, Some("clip")).unwrap();
    user.send_document(&doc, "talk.wav", Some("please transcribe")).unwrap();
    user.send_photo(&photo, Some("make it blue")).unwrap();

    let updates = bot.get_updates().await.unwrap();
    let msgs: Vec<&Message> = updates
        .iter()
        .map(|u| match &u.kind {
            UpdateKind::Message(m) => m,
            other => panic!("{other:?}"),
        })
        .collect();
    let a = msgs[0].audio().unwrap();
    assert_eq!((a.title.as_deref(), a.performer.as_deref()), (Some("Song"), Some("Band")));
    assert_eq!(a.file_name.as_deref(), Some("song.mp3"));
    assert_eq!(a.duration.seconds(), 125);
    assert_eq!(msgs[1].video_note().unwrap().duration.seconds(), 12);
    assert_eq!(msgs[2].video().unwrap().duration.seconds(), 30);
    assert_eq!(msgs[2].caption(), Some("clip"));
    let d = msgs[3].document().unwrap();
    assert_eq!(d.file_name.as_deref(), Some("talk.wav"));
    assert_eq!(d.mime_type.as_ref().map(ToString::to_string).as_deref(), Some("audio/x-wav"));
    assert_eq!(msgs[3].caption(), Some("please transcribe"));
    let sizes = msgs[4].photo().unwrap();
    let largest = sizes.last().unwrap();
    assert!(sizes.len() > 1);
    assert_eq!((largest.width, largest.height), (1600, 1200));
    assert_eq!(largest.file.id.0, photo.file_id);
    assert_eq!(msgs[4].caption(), Some("make it blue"));

    let file = bot.get_file(d.file.id.clone()).await.unwrap();
    assert!(file.path.ends_with(".wav"), "{}", file.path);
}

#[tokio::test]
async fn documents_sent_from_memory_keep_bytes_name_and_mime() {
    let tg = FakeTelegram::start().await;
    let bot = bot(&tg);
    let user = tg.user(22, "Ann", None);
    let content = "1\n00:00:00,000 --> 00:00:01,000\nHello\n".as_bytes().to_vec();
    let sent = bot
        .send_document(ChatId(user.chat_id()), InputFile::memory(content.clone()).file_name("talk.srt"))
        .caption("Your <b>subtitles</b>")
        .parse_mode(teloxide::types::ParseMode::Html)
        .await
        .unwrap();
    let doc = sent.document().unwrap();
    assert_eq!(doc.file_name.as_deref(), Some("talk.srt"));
    assert_eq!(sent.caption(), Some("Your subtitles"));

    let recorded = user.last_message().unwrap();
    let file = recorded.document.as_ref().unwrap();
    assert_eq!(file.bytes.as_ref(), content.as_slice());
    assert_eq!(file.file_name.as_deref(), Some("talk.srt"));
    assert_eq!(file.mime_type.as_deref(), Some("application/x-subrip"));
    assert_eq!(recorded.caption.as_deref(), Some("Your <b>subtitles</b>"));

    // The returned file_id downloads the same bytes and can be sent again.
    assert_eq!(download(&bot, &doc.file.id.0).await, content);
    let again =
        bot.send_document(ChatId(user.chat_id()), InputFile::file_id(doc.file.id.clone())).await.unwrap();
    assert_eq!(again.document().unwrap().file.unique_id, doc.file.unique_id);
    assert_eq!(user.last_message().unwrap().document.unwrap().bytes.as_ref(), content.as_slice());

    let err = bot
        .send_document(ChatId(user.chat_id()), InputFile::file_id(FileId("bogus".into())))
        .await
        .unwrap_err();
    assert!(matches!(err, RequestError::Api(ApiError::WrongFileIdOrUrl)), "{err:?}");
}

#[tokio::test]
async fn photos_sent_by_the_bot_get_photo_sizes() {
    let tg = FakeTelegram::start().await;
    let bot = bot(&tg);
    let user = tg.user(23, "Ann", None);
    let image = png(1024, 512);
    let sent = bot
        .send_photo(ChatId(user.chat_id()), InputFile::memory(image.clone()).file_name("out.png"))
        .caption("done")
        .await
        .unwrap();
    let sizes = sent.photo().unwrap();
    let largest = sizes.last().unwrap();
    assert_eq!((largest.width, largest.height), (1024, 512));
    assert!(sizes.first().unwrap().width < 1024);
    let recorded = user.last_message().unwrap();
    assert_eq!(recorded.photo.as_ref().unwrap().bytes.as_ref(), image.as_slice());
    assert_eq!(recorded.caption.as_deref(), Some("done"));
    assert_eq!(download(&bot, &largest.file.id.0).await, image);

    let err = bot
        .send_photo(ChatId(user.chat_id()), InputFile::memory(b"not an image".to_vec()))
        .await
        .unwrap_err();
    assert!(matches!(err, RequestError::Api(ApiError::ImageProcessFailed)), "{err:?}");
}
