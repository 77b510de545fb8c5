//! The object store against a real S3-compatible server.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use bytes::Bytes;
use rand::RngCore;
use storage::{KeyError, ObjectKey, ObjectName, ObjectStore, StorageConfig, StorageError};
use testkit::TestS3;
use uuid::Uuid;

fn config(s3: TestS3) -> StorageConfig {
    StorageConfig {
        endpoint: Some(s3.endpoint),
        bucket: s3.bucket,
        access_key_id: s3.access_key_id,
        secret_access_key: s3.secret_access_key,
        // Small parts keep the multipart test quick while still using several parts.
        multipart_threshold: 5 * 1024 * 1024,
        part_size: 5 * 1024 * 1024,
        ..StorageConfig::default()
    }
}

async fn store() -> ObjectStore {
    ObjectStore::connect(&config(TestS3::new())).await.expect("connect and create the bucket")
}

fn key(name: &str) -> ObjectKey {
    ObjectKey::new(42, Uuid::new_v4(), &ObjectName::parse(name).unwrap())
}

fn random_bytes(len: usize) -> Bytes {
    let mut data = vec![0u8; len];
    rand::rng().fill_bytes(&mut data);
    data.into()
}

#[tokio::test]
async fn one_byte_round_trip() {
    let store = store().await;
    let key = key("tiny.bin");
    assert!(!store.exists(&key).await.unwrap());
    store.put(&key, Bytes::from_static(b"x"), "application/octet-stream").await.unwrap();
    assert!(store.exists(&key).await.unwrap());
    assert_eq!(store.get(&key).await.unwrap(), Bytes::from_static(b"x"));
}

#[tokio::test]
async fn ten_megabytes_go_up_in_parts_and_come_back_intact() {
    let store = store().await;
    let key = key("big.bin");
    let data = random_bytes(10 * 1024 * 1024 + 17);
    store.put(&key, data.clone(), "application/octet-stream").await.unwrap();
    let back = store.get(&key).await.unwrap();
    assert_eq!(back.len(), data.len());
    assert!(back == data, "downloaded bytes differ from uploaded bytes");
}

#[tokio::test]
async fn uploads_from_a_reader_and_streams_back() {
    use tokio::io::AsyncReadExt;
    let store = store().await;
    let key = key("streamed.bin");
    let data = random_bytes(6 * 1024 * 1024);
    store.put_reader(&key, &mut data.as_ref(), "audio/ogg").await.unwrap();

    let mut reader = store.get_stream(&key).await.unwrap();
    let mut first = vec![0u8; 1024];
    reader.read_exact(&mut first).await.unwrap();
    assert_eq!(&first[..], &data[..1024]);
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).await.unwrap();
    assert_eq!(1024 + rest.len(), data.len());
    assert!(rest[..] == data[1024..]);
}

#[tokio::test]
async fn presigned_url_serves_the_same_bytes() {
    let store = store().await;
    let key = key("transcript.txt");
    let data = Bytes::from("Привет, мир".as_bytes());
    store.put(&key, data.clone(), "text/plain; charset=utf-8").await.unwrap();
    let url = store.presigned_get_url(&key, Duration::from_secs(300)).await.unwrap();
    assert!(url.query().is_some_and(|q| q.contains("X-Amz-Signature")), "{url}");
    let response = reqwest::get(url).await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(response.bytes().await.unwrap(), data);
}

#[tokio::test]
async fn delete_removes_and_is_idempotent() {
    let store = store().await;
    let key = key("gone.txt");
    store.put(&key, Bytes::from_static(b"bye"), "text/plain").await.unwrap();
    store.delete(&key).await.unwrap();
    assert!(!store.exists(&key).await.unwrap());
    store.delete(&key).await.unwrap();
    assert!(matches!(store.get(&key).await, Err(StorageError::NotFound(k)) if k == key));
}

#[tokio::test]
async fn connecting_twice_to_an_existing_bucket_is_fine() {
    let config = config(TestS3::new());
    let first = ObjectStore::connect(&config).await.unwrap();
    let second = ObjectStore::connect(&config).await.unwrap();
    let key = key("shared.txt");
    first.put(&key, Bytes::from_static(b"1"), "text/plain").await.unwrap();
    assert!(second.exists(&key).await.unwrap());
    second.ping().await.unwrap();
}

#[test]
fn escaping_names_are_rejected() {
    assert_eq!(ObjectName::parse("../x"), Err(KeyError::BadSegment));
    assert_eq!(ObjectName::parse("/abs"), Err(KeyError::LeadingSlash));
    assert_eq!(ObjectKey::parse("../x"), Err(KeyError::Malformed));
    assert_eq!(ObjectKey::parse("/abs"), Err(KeyError::Malformed));
}

#[tokio::test]
async fn a_server_that_stops_answering_fails_the_call_within_the_timeout() {
    // Accepts connections and never answers, like a storage server that hangs.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let config = StorageConfig {
        endpoint: Some(format!("http://{addr}").parse().unwrap()),
        bucket: "hangs".into(),
        access_key_id: "k".into(),
        secret_access_key: "s".into(),
        request_timeout: Duration::from_secs(1),
        ..StorageConfig::default()
    };
    let started = std::time::Instant::now();
    let outcome = tokio::time::timeout(Duration::from_secs(30), ObjectStore::connect(&config)).await;
    let result = outcome.expect("the call must end by itself");
    assert!(result.is_err(), "a silent server cannot be connected to");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    silent.abort();
}
