package dev.tuneloop.contracts;

/**
 * One object in the object store as the producer verified it.
 *
 * @param uri {@code s3://bucket/key}
 * @param sha256 hex sha256 of the object's bytes
 * @param size size in bytes
 */
public record StoredObject(String uri, String sha256, long size) {
    public StoredObject {
        Check.text("StoredObject", "uri", uri);
        if (!uri.startsWith("s3://")) {
            throw new IllegalArgumentException("StoredObject.uri must be an s3:// URI, got " + Check.quote(uri));
        }
        Check.sha256("StoredObject", "sha256", sha256);
        Check.atLeast("StoredObject", "size", size, 0);
    }
}
