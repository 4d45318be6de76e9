package dev.tuneloop.storage;

import java.net.URI;
import java.net.URISyntaxException;

/**
 * Where the object store is and how to sign in. {@link #toString()} masks the secret key.
 *
 * @param endpoint {@code http(s)://host:port} of the S3 API (MinIO, S3Proxy, AWS)
 * @param accessKey access key id
 * @param secretKey secret key
 * @param region signing region; {@code null} means {@code us-east-1} (MinIO's default)
 * @param bucket the bucket tuneloop keeps its data in
 */
public record StorageSettings(String endpoint, String accessKey, String secretKey, String region, String bucket) {
    public static final String DEFAULT_REGION = "us-east-1";

    public StorageSettings {
        URI uri;
        try {
            uri = new URI(endpoint);
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalArgumentException("StorageSettings.endpoint '" + endpoint + "' is not a URL", e);
        }
        if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null
                || !(uri.getRawPath() == null || uri.getRawPath().isEmpty() || uri.getRawPath().equals("/"))) {
            throw new IllegalArgumentException(
                    "StorageSettings.endpoint must look like http(s)://host:port with no path, got '" + endpoint + "'");
        }
        if (accessKey == null || accessKey.isBlank()) {
            throw new IllegalArgumentException("StorageSettings.accessKey must not be blank");
        }
        if (secretKey == null || secretKey.isBlank()) {
            throw new IllegalArgumentException("StorageSettings.secretKey must not be blank");
        }
        region = region == null || region.isBlank() ? DEFAULT_REGION : region;
        ObjectUri.requireValidBucket(bucket, "StorageSettings.bucket " + bucket);
    }

    @Override
    public String toString() {
        return "StorageSettings[endpoint=" + endpoint + ", accessKey=" + accessKey + ", secretKey=****, region="
                + region + ", bucket=" + bucket + "]";
    }
}
