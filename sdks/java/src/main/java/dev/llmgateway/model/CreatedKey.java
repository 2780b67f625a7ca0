package dev.llmgateway.model;

import java.util.Optional;

/**
 * A key just created or rotated, with its secret: the only time the gateway shows it. Store it
 * now (a secret manager, an environment variable); it cannot be read again. {@code toString()}
 * never prints the secret.
 */
public final class CreatedKey {
    private final ApiKey key;
    private final String secret;
    private final String replaces;

    public CreatedKey(ApiKey key, String secret, String replaces) {
        this.key = key;
        this.secret = secret;
        this.replaces = replaces;
    }

    /** The key's record (id, tenant, roles, limits...). */
    public ApiKey key() {
        return key;
    }

    /** The secret to send as {@code Authorization: Bearer <secret>}. */
    public String secret() {
        return secret;
    }

    /** For a rotation: the id of the key it replaced (now revoked). */
    public Optional<String> replaces() {
        return Optional.ofNullable(replaces);
    }

    @Override
    public String toString() {
        return "CreatedKey[id=" + key.id() + ", tenant=" + key.tenant() + ", prefix=" + key.prefix()
                + ", secret=<hidden>" + (replaces == null ? "" : ", replaces=" + replaces) + "]";
    }
}
