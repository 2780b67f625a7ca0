/**
 * The SDK's version and the gateway API version it speaks.
 *
 * Versioning rule: the SDK's MAJOR version is the gateway API's major version (`/admin/v1`,
 * `/v1` -> 1.x.y). MINOR grows when the SDK learns operations the gateway added to that API
 * version (backwards compatible), PATCH for fixes. A gateway API v2 gets SDK 2.0.0.
 */
export const VERSION = "1.0.0";
export const API_VERSION = "v1";
