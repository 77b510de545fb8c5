//! What the work is about: recordings and their transcripts (`transcripts`, with the
//! `AudioSandboxSettings` that keep a hostile recording from hurting the worker), pictures and
//! `/idea` prompts (`images`, with `ImageSettings`, `ImageProviderSettings` and `IdeaSettings`),
//! the OpenAI-compatible providers that do it (`provider`), summaries of transcripts on request
//! (`summaries`, with `SummarySettings`), and recordings uploaded from the Mini App (`uploads`). Depends on `jobs`, `billing`,
//! `platform` and `entities`.

pub mod images;
pub mod languages;
pub mod provider;
pub mod retention;
pub mod summaries;
pub mod transcripts;
pub mod uploads;
