//! Examples of embedding and extending the gateway; see the `[[example]]` targets.
