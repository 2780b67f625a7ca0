//! Examples of embedding and extending the gateway: the `[[example]]` targets, and
//! [`custom_provider`], an out-of-tree provider kind (its test serves it through the server).

pub mod custom_provider;
