//! The fake answers the real async-openai client as OpenAI would.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use async_openai::{
    Client,
    config::OpenAIConfig,
    error::OpenAIError,
    types::{
        audio::{AudioInput, AudioResponseFormat, CreateTranscriptionRequestArgs},
        images::{CreateImageRequestArgs, Image, ImageResponseFormat},
    },
};
use fake_openai::{AudioFormat, Endpoint, FakeOpenAi, Fault, expected_transcript, probe_audio};

fn client(fake: &FakeOpenAi) -> Client<OpenAIConfig> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::with_config(OpenAIConfig::new().with_api_base(fake.base_url()).with_api_key("sk-test"))
}

/// `seconds` of a 440 Hz tone, 16 kHz mono 16-bit PCM, in a WAV file written by hand.
fn wav(seconds: f64, pitch: f64) -> Vec<u8> {
    let rate = 16_000u32;
    let samples = (seconds * f64::from(rate)) as u32;
    let mut data = Vec::with_capacity(samples as usize * 2);
    for i in 0..samples {
        let value = (f64::from(i) / f64::from(rate) * pitch * std::f64::consts::TAU).sin() * 8000.0;
        data.extend_from_slice(&(value as i16).to_le_bytes());
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&data);
    out
}

/// An Ogg/Opus stream with the two header pages and one audio page ending at `granule`.
fn ogg_opus(granule: i64, pre_skip: u16) -> Vec<u8> {
    fn page(out: &mut Vec<u8>, kind: u8, granule: i64, sequence: u32, payload: &[u8]) {
        out.extend_from_slice(b"OggS");
        out.push(0);
        out.push(kind);
        out.extend_from_slice(&granule.to_le_bytes());
        out.extend_from_slice(&7u32.to_le_bytes());
        out.extend_from_slice(&sequence.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes()); // checksum: not checked by the fake
        out.push(1);
        out.push(payload.len() as u8);
        out.extend_from_slice(payload);
    }
    let mut head = b"OpusHead".to_vec();
    head.push(1);
    head.push(1);
    head.extend_from_slice(&pre_skip.to_le_bytes());
    head.extend_from_slice(&48_000u32.to_le_bytes());
    head.extend_from_slice(&[0, 0, 0]);
    let mut out = Vec::new();
    page(&mut out, 2, 0, 0, &head);
    page(&mut out, 0, 0, 1, b"OpusTags\0\0\0\0\0\0\0\0");
    page(&mut out, 4, granule, 2, &[0xf8; 20]);
    out
}

#[tokio::test]
async fn transcribes_a_wav_as_verbose_json_with_segments_and_usage() {
    let fake = FakeOpenAi::start().await.unwrap();
    let audio = wav(12.0, 440.0);
    let request = CreateTranscriptionRequestArgs::default()
        .file(AudioInput::from_vec_u8("chunk.wav".into(), audio.clone()))
        .model("whisper-1")
        .language("ru")
        .response_format(AudioResponseFormat::VerboseJson)
        .build()
        .unwrap();
    let response = client(&fake).audio().transcription().create_verbose_json(request).await.unwrap();
    let expected = expected_transcript(&audio).unwrap();
    assert!((response.duration - 12.0).abs() < 0.01, "{}", response.duration);
    assert_eq!(response.text, expected.text);
    let segments = response.segments.unwrap();
    assert_eq!(segments.len(), 3);
    assert_eq!((segments[2].start, segments[2].end), (10.0, 12.0));
    let recorded = fake.transcription_requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].audio.as_ref().unwrap().format, AudioFormat::Wav);
    assert_eq!(recorded[0].language.as_deref(), Some("ru"));

    // Other formats of the same audio: plain json and SRT.
    let json = CreateTranscriptionRequestArgs::default()
        .file(AudioInput::from_vec_u8("chunk.wav".into(), audio.clone()))
        .model("whisper-1")
        .build()
        .unwrap();
    assert_eq!(client(&fake).audio().transcription().create(json).await.unwrap().text, expected.text);
    let srt = reqwest::Client::new()
        .post(format!("{}/audio/transcriptions", fake.base_url()))
        .multipart(
            reqwest::multipart::Form::new()
                .part("file", reqwest::multipart::Part::bytes(audio).file_name("a.wav"))
                .text("model", "whisper-1")
                .text("response_format", "srt"),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(srt.starts_with("1\n00:00:00,000 --> 00:00:05,000\n"), "{srt}");
}

#[tokio::test]
async fn segments_can_say_as_many_words_as_speech_does() {
    let fake = FakeOpenAi::start().await.unwrap();
    fake.speak_words_per_segment(12);
    let audio = wav(12.0, 440.0);
    let request = CreateTranscriptionRequestArgs::default()
        .file(AudioInput::from_vec_u8("chunk.wav".into(), audio.clone()))
        .model("whisper-1")
        .response_format(AudioResponseFormat::VerboseJson)
        .build()
        .unwrap();
    let response = client(&fake).audio().transcription().create_verbose_json(request).await.unwrap();
    let tags = expected_transcript(&audio).unwrap().segments;
    let segments = response.segments.unwrap();
    assert_eq!(segments.len(), tags.len());
    for (segment, tag) in segments.iter().zip(&tags) {
        // Its tag, then twelve words.
        assert!(segment.text.starts_with(&format!("{} we need", tag.text)), "{}", segment.text);
        assert_eq!(segment.text.split_whitespace().count(), 13, "{}", segment.text);
    }
    assert_eq!(response.text.split_whitespace().count(), 13 * tags.len());
}

#[tokio::test]
async fn ogg_opus_duration_comes_from_the_granule_position() {
    let info = probe_audio(&ogg_opus(48_000 * 7 + 312, 312)).unwrap();
    assert_eq!(info.format, AudioFormat::OggOpus);
    assert!((info.duration_s - 7.0).abs() < 1e-9, "{}", info.duration_s);
    // Different audio, different transcript.
    let a = expected_transcript(&wav(3.0, 440.0)).unwrap();
    let b = expected_transcript(&wav(3.0, 220.0)).unwrap();
    assert_ne!(a.text, b.text);
}

#[tokio::test]
async fn uploads_over_25_mb_and_non_audio_are_refused_like_openai() {
    let fake = FakeOpenAi::start().await.unwrap();
    let send = |bytes: Vec<u8>| {
        let request = CreateTranscriptionRequestArgs::default()
            .file(AudioInput::from_vec_u8("x.wav".into(), bytes))
            .model("whisper-1")
            .build()
            .unwrap();
        let client = client(&fake);
        async move { client.audio().transcription().create(request).await }
    };
    match send(vec![0u8; 26 * 1024 * 1024]).await {
        Err(OpenAIError::ApiError(err)) => assert_eq!(err.status_code, 413),
        other => panic!("{other:?}"),
    }
    match send(b"definitely not audio".to_vec()).await {
        Err(OpenAIError::ApiError(err)) => {
            assert_eq!(err.status_code, 400);
            assert!(err.api_error.message.starts_with("Invalid file format"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_429_with_retry_after_is_retried_by_the_client() {
    let fake = FakeOpenAi::start().await.unwrap();
    fake.fail_next(Endpoint::Transcriptions, 1, Fault::RateLimited { retry_after_s: 1 });
    let request = CreateTranscriptionRequestArgs::default()
        .file(AudioInput::from_vec_u8("chunk.wav".into(), wav(2.0, 440.0)))
        .model("whisper-1")
        .build()
        .unwrap();
    client(&fake).audio().transcription().create(request).await.unwrap();
    let statuses: Vec<u16> = fake.transcription_requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![429, 200]);
}

#[tokio::test]
async fn quota_errors_carry_their_code() {
    let fake = FakeOpenAi::start().await.unwrap();
    fake.fail_next(Endpoint::Transcriptions, 5, Fault::InsufficientQuota);
    let request = CreateTranscriptionRequestArgs::default()
        .file(AudioInput::from_vec_u8("chunk.wav".into(), wav(1.0, 440.0)))
        .model("whisper-1")
        .build()
        .unwrap();
    match client(&fake).audio().transcription().create(request).await {
        Err(OpenAIError::ApiError(err)) => {
            assert_eq!(err.api_error.code.as_deref(), Some("insufficient_quota"))
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn images_are_real_pngs_and_refusals_have_their_code() {
    let fake = FakeOpenAi::start().await.unwrap();
    let request = CreateImageRequestArgs::default()
        .prompt("a red fox in snow")
        .response_format(ImageResponseFormat::B64Json)
        .build()
        .unwrap();
    let response = client(&fake).images().generate(request.clone()).await.unwrap();
    let Image::B64Json { b64_json, .. } = response.data[0].as_ref() else { panic!("expected base64") };
    use base64::Engine;
    let png = base64::engine::general_purpose::STANDARD.decode(b64_json.as_str()).unwrap();
    assert!(fake_openai::is_image(&png) && png.starts_with(b"\x89PNG"));

    // As a URL, the same picture is served by the fake.
    let by_url = CreateImageRequestArgs::default()
        .prompt("a red fox in snow")
        .response_format(ImageResponseFormat::Url)
        .build()
        .unwrap();
    let response = client(&fake).images().generate(by_url).await.unwrap();
    let Image::Url { url, .. } = response.data[0].as_ref() else { panic!("expected a URL") };
    let fetched = reqwest::get(url.as_str()).await.unwrap().bytes().await.unwrap();
    assert_eq!(&fetched[..], &png[..]);

    fake.fail_next(Endpoint::ImageGenerations, 1, Fault::ContentPolicy);
    match client(&fake).images().generate(request).await {
        Err(OpenAIError::ApiError(err)) => {
            assert_eq!(err.api_error.code.as_deref(), Some("content_policy_violation"))
        }
        other => panic!("{other:?}"),
    }

    // An edit of something that is not an image is refused.
    let edit = reqwest::Client::new()
        .post(format!("{}/images/edits", fake.base_url()))
        .multipart(
            reqwest::multipart::Form::new()
                .part("image", reqwest::multipart::Part::bytes(b"%PDF".to_vec()).file_name("x.png"))
                .text("prompt", "make it blue"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(edit.status(), 400);

    // As OpenAI, the part's declared type counts: a PNG sent without one is refused,
    // the same PNG declared as image/png is edited.
    let edit_with = |part: reqwest::multipart::Part| {
        reqwest::Client::new()
            .post(format!("{}/images/edits", fake.base_url()))
            .multipart(reqwest::multipart::Form::new().part("image", part).text("prompt", "make it blue"))
            .send()
    };
    let untyped = edit_with(reqwest::multipart::Part::bytes(png.to_vec()).file_name("x.png")).await.unwrap();
    assert_eq!(untyped.status(), 400);
    let refusal: serde_json::Value = untyped.json().await.unwrap();
    assert!(refusal["error"]["message"].as_str().unwrap().contains("unsupported mimetype"), "{refusal}");
    let typed =
        reqwest::multipart::Part::bytes(png.to_vec()).file_name("x.png").mime_str("image/png").unwrap();
    assert_eq!(edit_with(typed).await.unwrap().status(), 200);
}

#[tokio::test]
async fn peak_concurrency_is_measured() {
    let fake = FakeOpenAi::start().await.unwrap();
    fake.set_latency(Endpoint::Transcriptions, Duration::from_millis(300));
    let calls = (0..4).map(|i| {
        let client = client(&fake);
        let request = CreateTranscriptionRequestArgs::default()
            .file(AudioInput::from_vec_u8("c.wav".into(), wav(1.0, 200.0 + f64::from(i))))
            .model("whisper-1")
            .build()
            .unwrap();
        tokio::spawn(async move { client.audio().transcription().create(request).await })
    });
    for call in calls.collect::<Vec<_>>() {
        call.await.unwrap().unwrap();
    }
    assert_eq!(fake.peak_concurrency(Endpoint::Transcriptions), 4);
}

#[tokio::test]
async fn chat_returns_queued_replies() {
    use async_openai::types::chat::{ChatCompletionRequestUserMessageArgs, CreateChatCompletionRequestArgs};
    let fake = FakeOpenAi::start().await.unwrap();
    fake.queue_chat_reply("1. a fox\n2. a cat\n3. a dog");
    let request = CreateChatCompletionRequestArgs::default()
        .model("gpt-4o-mini")
        .messages([ChatCompletionRequestUserMessageArgs::default()
            .content("ideas please")
            .build()
            .unwrap()
            .into()])
        .build()
        .unwrap();
    let response = client(&fake).chat().create(request).await.unwrap();
    assert_eq!(response.choices[0].message.content.as_deref(), Some("1. a fox\n2. a cat\n3. a dog"));
}
