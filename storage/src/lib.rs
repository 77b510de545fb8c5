//! Object storage on any S3-compatible server (MinIO, AWS S3, ...).
//!
//! [`ObjectStore`] is the only way the bot and the worker touch object
//! storage. Keys are [`ObjectKey`]s, so a stored path can never escape the
//! `{user_id}/{job_id}/` folder it belongs to.

mod key;

use std::{fmt, time::Duration};

use aws_sdk_s3::{
    Client,
    config::{BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation},
    error::DisplayErrorContext,
    presigning::PresigningConfig,
    primitives::ByteStream,
    types::{BucketLocationConstraint, CompletedMultipartUpload, CompletedPart, CreateBucketConfiguration},
};
use bytes::Bytes;
use tokio::io::{AsyncBufRead, AsyncRead, AsyncReadExt};
use url::Url;

pub use key::{KeyError, ObjectKey, ObjectName};

/// S3's smallest allowed part (except the last one).
const MIN_PART_SIZE: usize = 5 * 1024 * 1024;

/// Where and how to reach the object store.
#[derive(Clone)]
pub struct StorageConfig {
    /// Endpoint of an S3-compatible server; `None` for AWS.
    pub endpoint: Option<Url>,
    /// The same server as browsers and phones reach it, when that differs
    /// from `endpoint` (a compose-internal `http://minio:9000` behind a public
    /// proxy): presigned URLs are signed for this host.
    pub public_endpoint: Option<Url>,
    /// Region name.
    pub region: String,
    /// The bucket; created by [`ObjectStore::connect`] when missing.
    pub bucket: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key (never printed by `Debug`).
    pub secret_access_key: String,
    /// `endpoint/bucket/key` addressing, as MinIO needs.
    pub force_path_style: bool,
    /// Objects larger than this are uploaded in parts.
    pub multipart_threshold: usize,
    /// Size of each part of a multipart upload (at least 5 MiB).
    pub part_size: usize,
    /// Longest wait for a connection to the server.
    pub connect_timeout: Duration,
    /// Longest wait for one request (one part of an upload, one download)
    /// including the SDK's own retries: a server that stops answering fails
    /// the call instead of holding a job forever.
    pub request_timeout: Duration,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            endpoint: None,
            public_endpoint: None,
            region: "us-east-1".to_owned(),
            bucket: String::new(),
            access_key_id: String::new(),
            secret_access_key: String::new(),
            force_path_style: true,
            multipart_threshold: 8 * 1024 * 1024,
            part_size: 8 * 1024 * 1024,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(60),
        }
    }
}

impl fmt::Debug for StorageConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StorageConfig")
            .field("endpoint", &self.endpoint)
            .field("public_endpoint", &self.public_endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("access_key_id", &"[redacted]")
            .field("secret_access_key", &"[redacted]")
            .field("force_path_style", &self.force_path_style)
            .field("multipart_threshold", &self.multipart_threshold)
            .field("part_size", &self.part_size)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

/// What can go wrong when talking to the object store.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// No object under this key.
    #[error("object {0} does not exist")]
    NotFound(ObjectKey),
    /// The configuration cannot work (e.g. a part size under 5 MiB).
    #[error("storage configuration is invalid: {0}")]
    Config(String),
    /// The server refused the request or could not be reached.
    #[error("S3 {operation} failed: {message}")]
    Request {
        /// The S3 operation, e.g. `PutObject`.
        operation: &'static str,
        /// The SDK's error with its whole chain of causes.
        message: String,
    },
    /// The multipart upload is unknown to the server and left no object.
    #[error("no such upload")]
    NoSuchUpload,
    /// A multipart upload was completed before any part arrived.
    #[error("the upload has no parts")]
    EmptyUpload,
    /// Reading the data to upload, or the downloaded body, failed.
    #[error("I/O error while transferring an object: {0}")]
    Io(#[from] std::io::Error),
}

impl StorageError {
    fn request(operation: &'static str, err: impl std::error::Error) -> Self {
        Self::Request { operation, message: DisplayErrorContext(err).to_string() }
    }
}

/// A bucket on an S3-compatible server.
#[derive(Clone, Debug)]
pub struct ObjectStore {
    client: Client,
    /// Signs the URLs handed to browsers, for the public endpoint.
    presigner: Client,
    bucket: String,
    multipart_threshold: usize,
    part_size: usize,
}

impl ObjectStore {
    /// Builds the client and makes sure the bucket exists, creating it if needed.
    pub async fn connect(config: &StorageConfig) -> Result<Self, StorageError> {
        if config.part_size < MIN_PART_SIZE {
            return Err(StorageError::Config(format!("part size must be at least {MIN_PART_SIZE} bytes")));
        }
        let credentials =
            Credentials::new(&config.access_key_id, &config.secret_access_key, None, None, "environment");
        let mut builder = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(config.region.clone()))
            .credentials_provider(credentials)
            .force_path_style(config.force_path_style)
            // Checksums only where S3 demands them: several S3-compatible
            // servers reject the SDK's default streaming checksum trailers.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .timeout_config(
                aws_sdk_s3::config::timeout::TimeoutConfig::builder()
                    .connect_timeout(config.connect_timeout)
                    .operation_timeout(config.request_timeout)
                    .build(),
            );
        let mut public = builder.clone();
        if let Some(endpoint) = &config.endpoint {
            builder = builder.endpoint_url(endpoint.as_str().trim_end_matches('/'));
        }
        if let Some(endpoint) = config.public_endpoint.as_ref().or(config.endpoint.as_ref()) {
            public = public.endpoint_url(endpoint.as_str().trim_end_matches('/'));
        }
        let store = Self {
            client: Client::from_conf(builder.build()),
            presigner: Client::from_conf(public.build()),
            bucket: config.bucket.clone(),
            multipart_threshold: config.multipart_threshold.max(config.part_size),
            part_size: config.part_size,
        };
        store.ensure_bucket(&config.region).await?;
        Ok(store)
    }

    async fn ensure_bucket(&self, region: &str) -> Result<(), StorageError> {
        match self.client.head_bucket().bucket(&self.bucket).send().await {
            Ok(_) => return Ok(()),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => {}
            Err(err) => return Err(StorageError::request("HeadBucket", err)),
        }
        let mut create = self.client.create_bucket().bucket(&self.bucket);
        // us-east-1 is the one region that must not be named as a constraint.
        if region != "us-east-1" {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(region))
                    .build(),
            );
        }
        match create.send().await {
            Ok(_) => {
                tracing::info!(bucket = %self.bucket, "created bucket");
                Ok(())
            }
            // Another process created it between our check and our create.
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_bucket_already_owned_by_you() || e.is_bucket_already_exists()) =>
            {
                Ok(())
            }
            Err(err) => Err(StorageError::request("CreateBucket", err)),
        }
    }

    /// Checks that the bucket is reachable, for readiness probes.
    pub async fn ping(&self) -> Result<(), StorageError> {
        self.client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map(drop)
            .map_err(|err| StorageError::request("HeadBucket", err))
    }

    /// Stores `bytes` under `key`, replacing any previous object.
    pub async fn put(&self, key: &ObjectKey, bytes: Bytes, content_type: &str) -> Result<(), StorageError> {
        if bytes.len() <= self.multipart_threshold {
            return self.put_single(key, bytes, content_type).await;
        }
        self.put_reader(key, &mut bytes.as_ref(), content_type).await
    }

    /// Stores everything `reader` yields under `key`, holding at most one part
    /// in memory: small inputs go up in one request, large ones in parts.
    pub async fn put_reader<R>(
        &self,
        key: &ObjectKey,
        reader: &mut R,
        content_type: &str,
    ) -> Result<(), StorageError>
    where
        R: AsyncRead + Unpin + Send,
    {
        let first = read_up_to(reader, self.multipart_threshold + 1).await?;
        if first.len() <= self.multipart_threshold {
            return self.put_single(key, first, content_type).await;
        }
        self.put_multipart(key, first, reader, content_type).await
    }

    async fn put_single(
        &self,
        key: &ObjectKey,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<(), StorageError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map(drop)
            .map_err(|err| StorageError::request("PutObject", err))
    }

    async fn put_multipart<R>(
        &self,
        key: &ObjectKey,
        mut pending: Bytes,
        reader: &mut R,
        content_type: &str,
    ) -> Result<(), StorageError>
    where
        R: AsyncRead + Unpin + Send,
    {
        let upload = self.start_upload(key, content_type).await?;
        let upload_id = &upload.0;

        let result = async {
            let mut parts = Vec::new();
            let mut part_number = 1;
            loop {
                // Top the buffer up to one part; what is left after it is the next part's start.
                if pending.len() < self.part_size {
                    let more = read_up_to(reader, self.part_size - pending.len()).await?;
                    pending = [pending, more].concat().into();
                }
                if pending.is_empty() {
                    break;
                }
                let body = pending.split_to(pending.len().min(self.part_size));
                let done = self
                    .client
                    .upload_part()
                    .bucket(&self.bucket)
                    .key(key.as_str())
                    .upload_id(upload_id)
                    .part_number(part_number)
                    .body(ByteStream::from(body))
                    .send()
                    .await
                    .map_err(|err| StorageError::request("UploadPart", err))?;
                parts.push(CompletedPart::builder().part_number(part_number).set_e_tag(done.e_tag).build());
                part_number += 1;
            }
            self.client
                .complete_multipart_upload()
                .bucket(&self.bucket)
                .key(key.as_str())
                .upload_id(upload_id)
                .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
                .send()
                .await
                .map_err(|err| StorageError::request("CompleteMultipartUpload", err))?;
            Ok(())
        }
        .await;

        if result.is_err() {
            // Parts of an abandoned upload are billed until aborted.
            if let Err(err) = self.abort_upload(key, &upload).await {
                tracing::warn!(key = %key, error = %err, "could not abort a failed multipart upload");
            }
        }
        result
    }

    /// Reads a whole object into memory; use [`ObjectStore::get_stream`] for large ones.
    pub async fn get(&self, key: &ObjectKey) -> Result<Bytes, StorageError> {
        let mut reader = self.get_stream(key).await?;
        let mut buffer = Vec::new();
        reader.read_to_end(&mut buffer).await?;
        Ok(buffer.into())
    }

    /// Opens an object for reading as it downloads.
    pub async fn get_stream(
        &self,
        key: &ObjectKey,
    ) -> Result<impl AsyncBufRead + Unpin + Send + use<>, StorageError> {
        match self.client.get_object().bucket(&self.bucket).key(key.as_str()).send().await {
            Ok(object) => Ok(object.body.into_async_read()),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                Err(StorageError::NotFound(key.clone()))
            }
            Err(err) => Err(StorageError::request("GetObject", err)),
        }
    }

    /// Whether an object exists under `key`.
    pub async fn exists(&self, key: &ObjectKey) -> Result<bool, StorageError> {
        match self.client.head_object().bucket(&self.bucket).key(key.as_str()).send().await {
            Ok(_) => Ok(true),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(false),
            Err(err) => Err(StorageError::request("HeadObject", err)),
        }
    }

    /// Deletes the object; deleting a missing object succeeds, so retries are safe.
    pub async fn delete(&self, key: &ObjectKey) -> Result<(), StorageError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
            .map(drop)
            .map_err(|err| StorageError::request("DeleteObject", err))
    }

    /// A URL anyone can GET the object from until `ttl` has passed.
    pub async fn presigned_get_url(&self, key: &ObjectKey, ttl: Duration) -> Result<Url, StorageError> {
        let presigning =
            PresigningConfig::expires_in(ttl).map_err(|err| StorageError::Config(err.to_string()))?;
        let request = self
            .presigner
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .presigned(presigning)
            .await
            .map_err(|err| StorageError::request("GetObject (presign)", err))?;
        presigned_url("GetObject (presign)", request.uri())
    }

    /// Opens a multipart upload that a browser will fill through presigned
    /// part URLs ([`ObjectStore::presigned_part_url`]).
    pub async fn start_upload(&self, key: &ObjectKey, content_type: &str) -> Result<UploadId, StorageError> {
        let upload = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type(content_type)
            .send()
            .await
            .map_err(|err| StorageError::request("CreateMultipartUpload", err))?;
        upload.upload_id().map(|id| UploadId(id.to_owned())).ok_or_else(|| StorageError::Request {
            operation: "CreateMultipartUpload",
            message: "the server returned no upload id".to_owned(),
        })
    }

    /// A URL anyone can `PUT` part `number` (from 1) of `upload` to until `ttl` has passed.
    pub async fn presigned_part_url(
        &self,
        key: &ObjectKey,
        upload: &UploadId,
        number: i32,
        ttl: Duration,
    ) -> Result<Url, StorageError> {
        let presigning =
            PresigningConfig::expires_in(ttl).map_err(|err| StorageError::Config(err.to_string()))?;
        let request = self
            .presigner
            .upload_part()
            .bucket(&self.bucket)
            .key(key.as_str())
            .upload_id(&upload.0)
            .part_number(number)
            .presigned(presigning)
            .await
            .map_err(|err| StorageError::request("UploadPart (presign)", err))?;
        presigned_url("UploadPart (presign)", request.uri())
    }

    /// Completes `upload` with every part the server received, in order, and
    /// answers the object's size. The parts' list comes from the server, not
    /// from the uploader. Completing an upload that was completed before
    /// answers the object's size again, so a retried request is harmless.
    pub async fn finish_upload(&self, key: &ObjectKey, upload: &UploadId) -> Result<u64, StorageError> {
        let mut parts = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let listed = match self
                .client
                .list_parts()
                .bucket(&self.bucket)
                .key(key.as_str())
                .upload_id(&upload.0)
                .set_part_number_marker(marker.clone())
                .send()
                .await
            {
                Ok(listed) => listed,
                Err(err)
                    if err.as_service_error().is_some_and(|e| e.meta().code() == Some("NoSuchUpload")) =>
                {
                    return self.size(key).await?.ok_or(StorageError::NoSuchUpload);
                }
                Err(err) => return Err(StorageError::request("ListParts", err)),
            };
            for part in listed.parts() {
                parts.push(
                    CompletedPart::builder()
                        .set_part_number(part.part_number())
                        .set_e_tag(part.e_tag().map(ToOwned::to_owned))
                        .build(),
                );
            }
            match listed.next_part_number_marker() {
                Some(next) if listed.is_truncated() == Some(true) => marker = Some(next.to_owned()),
                _ => break,
            }
        }
        if parts.is_empty() {
            // Some servers list a completed upload as one without parts.
            return self.size(key).await?.ok_or(StorageError::EmptyUpload);
        }
        // Not every server lists them in order; S3 wants them ascending.
        parts.sort_by_key(CompletedPart::part_number);
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key.as_str())
            .upload_id(&upload.0)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
            .await
            .map_err(|err| StorageError::request("CompleteMultipartUpload", err))?;
        self.size(key).await?.ok_or_else(|| StorageError::NotFound(key.clone()))
    }

    /// Drops an unfinished upload and the parts it holds (they are billed until then).
    pub async fn abort_upload(&self, key: &ObjectKey, upload: &UploadId) -> Result<(), StorageError> {
        match self
            .client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(key.as_str())
            .upload_id(&upload.0)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err) if err.as_service_error().is_some_and(|e| e.meta().code() == Some("NoSuchUpload")) => {
                Ok(())
            }
            Err(err) => Err(StorageError::request("AbortMultipartUpload", err)),
        }
    }

    /// The object's size in bytes, or `None` when there is none under `key`.
    pub async fn size(&self, key: &ObjectKey) -> Result<Option<u64>, StorageError> {
        match self.client.head_object().bucket(&self.bucket).key(key.as_str()).send().await {
            Ok(head) => Ok(Some(head.content_length().and_then(|n| u64::try_from(n).ok()).unwrap_or(0))),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(err) => Err(StorageError::request("HeadObject", err)),
        }
    }

    /// The first `len` bytes of the object (fewer when it is shorter).
    pub async fn get_head(&self, key: &ObjectKey, len: u64) -> Result<Bytes, StorageError> {
        let object = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .range(format!("bytes=0-{}", len.saturating_sub(1)))
            .send()
            .await
        {
            Ok(object) => object,
            Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                return Err(StorageError::NotFound(key.clone()));
            }
            Err(err) => return Err(StorageError::request("GetObject (range)", err)),
        };
        let mut buffer = Vec::new();
        // A server that ignores the range sends everything: read no more than asked.
        object.body.into_async_read().take(len).read_to_end(&mut buffer).await?;
        Ok(buffer.into())
    }
}

/// S3's id of a multipart upload in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadId(pub String);

fn presigned_url(operation: &'static str, uri: &str) -> Result<Url, StorageError> {
    Url::parse(uri).map_err(|err| StorageError::Request {
        operation,
        message: format!("the SDK produced an invalid URL: {err}"),
    })
}

/// Reads until `limit` bytes or the end of input, whichever comes first.
async fn read_up_to<R>(reader: &mut R, limit: usize) -> Result<Bytes, std::io::Error>
where
    R: AsyncRead + Unpin + Send,
{
    let mut buffer = Vec::with_capacity(limit.min(MIN_PART_SIZE * 2));
    (&mut *reader).take(limit as u64).read_to_end(&mut buffer).await?;
    Ok(buffer.into())
}
