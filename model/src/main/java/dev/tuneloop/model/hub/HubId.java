package dev.tuneloop.model.hub;

import java.util.regex.Pattern;

/**
 * A model repository on the hub, {@code owner/name} at a revision (branch, tag or commit sha). Validated strictly,
 * because the owner, name and revision become folder names in the cache: nothing here can climb out of it.
 */
public record HubId(String owner, String name, String revision) {
    public static final String DEFAULT_REVISION = "main";
    private static final int MAX_PART = 96;
    private static final int MAX_REVISION = 255;
    private static final Pattern PART = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final Pattern REVISION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/-]*");
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    public HubId {
        checkPart("owner", owner);
        checkPart("name", name);
        checkRevision(revision);
    }

    /** {@code owner/name} or {@code owner/name@revision}; the revision defaults to {@code main}. */
    public static HubId parse(String id) {
        if (id == null || id.isBlank()) {
            throw new IllegalArgumentException("hub id is empty: expected owner/name or owner/name@revision");
        }
        String repo = id;
        String revision = DEFAULT_REVISION;
        int at = id.indexOf('@');
        if (at >= 0) {
            repo = id.substring(0, at);
            revision = id.substring(at + 1);
        }
        String[] parts = repo.split("/", -1);
        if (parts.length != 2) {
            throw new IllegalArgumentException("invalid hub id '" + id + "': expected exactly one '/' as in "
                    + "owner/name, found " + (parts.length - 1));
        }
        try {
            return new HubId(parts[0], parts[1], revision);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid hub id '" + id + "': " + e.getMessage(), e);
        }
    }

    /** Checks a repository id {@code owner/name} (no revision) and returns it split. */
    static HubId ofRepo(String repoId, String revision) {
        if (repoId == null || repoId.indexOf('@') >= 0) {
            throw new IllegalArgumentException("invalid repository id '" + repoId + "': expected owner/name");
        }
        return parse(repoId + "@" + revision);
    }

    public String repoId() {
        return owner + "/" + name;
    }

    /** The cache folder name, as huggingface_hub names it: {@code models--owner--name}. */
    public String cacheFolderName() {
        return "models--" + owner + "--" + name;
    }

    static boolean isCommitSha(String revision) {
        return COMMIT.matcher(revision).matches();
    }

    @Override
    public String toString() {
        return repoId() + "@" + revision;
    }

    private static void checkPart(String what, String value) {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException(what + " is empty");
        }
        if (value.length() > MAX_PART) {
            throw new IllegalArgumentException(
                    what + " is " + value.length() + " characters long, at most " + MAX_PART);
        }
        if (!PART.matcher(value).matches()) {
            throw new IllegalArgumentException(what + " '" + value + "' must match " + PART.pattern()
                    + " (letters, digits, '.', '_', '-', not starting with '.' or '-')");
        }
        if (value.contains("..") || value.contains("--")) {
            throw new IllegalArgumentException(what + " '" + value + "' must not contain '..' or '--'");
        }
        if (value.endsWith(".") || value.endsWith("-")) {
            throw new IllegalArgumentException(what + " '" + value + "' must not end with '.' or '-'");
        }
    }

    private static void checkRevision(String revision) {
        if (revision == null || revision.isEmpty()) {
            throw new IllegalArgumentException("revision is empty (write owner/name or owner/name@revision)");
        }
        if (revision.length() > MAX_REVISION) {
            throw new IllegalArgumentException("revision is " + revision.length() + " characters long, at most "
                    + MAX_REVISION);
        }
        if (!REVISION.matcher(revision).matches() || revision.contains("..") || revision.contains("//")
                || revision.endsWith("/") || revision.contains("/.")) {
            throw new IllegalArgumentException("revision '" + revision + "' must be a branch, tag or commit sha: "
                    + "letters, digits, '.', '_', '-', '/', no '..' and no empty or hidden path segment");
        }
    }
}
