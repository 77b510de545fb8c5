//! The operator's side: what admins do to the product and what it records of them.
//! `audit` is the append-only trail every admin action and every money movement
//! outside the job and payment flows writes in its own transaction; `admin` holds
//! the actions themselves (finding a user, grants and debits with a confirmation,
//! bans, retrying failed jobs); `broadcast` an admin's message copied to a segment
//! of users, at most once each; `stats` the figures `/stats` shows; `refunds` the
//! refunds of settled purchases (credits and referral bonuses taken back, once per
//! provider refund); `support` users' `/paysupport` questions and admins' answers.
//! It sits on top of the owners (billing, jobs, media, payments, people) like
//! `metrics`; no owner imports it.

pub mod admin;
pub mod audit;
pub mod broadcast;
pub mod refunds;
pub mod stats;
pub mod support;
