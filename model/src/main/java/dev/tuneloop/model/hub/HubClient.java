package dev.tuneloop.model.hub;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches files of a model repository from the Hugging Face hub into the shared cache, the way huggingface_hub's
 * {@code snapshot_download} does: one {@code HEAD .../resolve/{revision}/{file}} per file for its commit and etag,
 * a GET only for blobs not yet in the cache, and a {@code snapshots/{commit}/} folder of symlinks as the result.
 * Offline ({@code HF_HUB_OFFLINE=1}) or with the hub unreachable, the cached snapshot of the revision is used when
 * it holds every required file.
 */
public final class HubClient {
    private static final Logger log = LoggerFactory.getLogger(HubClient.class);

    private final HubSettings settings;
    private final HubHttp http;
    private final BlobDownload download;

    public HubClient(HubSettings settings) {
        this(settings, Duration.ofSeconds(1));
    }

    /** {@code retryDelay}: the first backoff after a 5xx or a dropped connection, doubled on each further try. */
    HubClient(HubSettings settings, Duration retryDelay) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.http = new HubHttp(settings, retryDelay);
        this.download = new BlobDownload(http, retryDelay);
    }

    /** The snapshot folder holding exactly {@code files}, all required. */
    public Path snapshot(String repoId, String revision, List<String> files, Progress progress) throws IOException {
        return snapshot(repoId, revision, HubFiles.required(files), progress);
    }

    /** The snapshot folder {@code {cache}/models--{owner}--{name}/snapshots/{commit}} holding {@code files}. */
    public Path snapshot(String repoId, String revision, HubFiles files, Progress progress) throws IOException {
        HubId id = HubId.ofRepo(repoId, revision);
        HubCache cache = new HubCache(settings.cacheDir(), id);
        if (settings.offline()) {
            return fromCache(cache, id, files, "offline mode is on (HF_HUB_OFFLINE=1)");
        }
        if (HubId.isCommitSha(revision) && Files.isDirectory(cache.snapshotDir(revision))
                && cache.missing(revision, files).isEmpty()) {
            log.info("using cached {} (a commit never changes)", id);
            return cache.snapshotDir(revision);
        }
        try {
            return new Fetch(cache, id, progress).all(files);
        } catch (HubHttp.Unreachable e) {
            log.warn("hub unreachable: {}; trying the cache", e.getMessage());
            return fromCache(cache, id, files,
                    "the hub at " + settings.endpoint() + " is unreachable (" + e.getMessage() + ")");
        }
    }

    private static Path fromCache(HubCache cache, HubId id, HubFiles files, String reason) throws IOException {
        Optional<String> commit = cache.commitOf(id.revision());
        if (commit.isEmpty()) {
            throw new IOException(id + " is not in the cache (" + cache.repoDir() + " has no refs/" + id.revision()
                    + " and no snapshot of that commit) and " + reason
                    + ": download it once with network access, or give --model a local folder");
        }
        Path dir = cache.snapshotDir(commit.get());
        List<String> missing = cache.missing(commit.get(), files);
        if (!missing.isEmpty()) {
            throw new IOException("the cached snapshot " + dir + " of " + id + " lacks " + String.join(", ", missing)
                    + " and " + reason + ": download it once with network access");
        }
        log.info("using cached {} at commit {}: {}", id, commit.get(), reason);
        return dir;
    }

    /** One snapshot call: the commit is learned from the first HEAD and then pins every later request. */
    private final class Fetch {
        private final HubCache cache;
        private final HubId id;
        private final Progress progress;
        private String commit;

        Fetch(HubCache cache, HubId id, Progress progress) {
            this.cache = cache;
            this.id = id;
            this.progress = Objects.requireNonNull(progress, "progress");
        }

        Path all(HubFiles files) throws IOException {
            for (String f : files.required()) {
                file(f, true);
            }
            for (String f : files.optional()) {
                file(f, false);
            }
            if (files.safetensorsWeights() && !file(HubFiles.SINGLE_WEIGHTS, false)) {
                if (!file(HubFiles.WEIGHTS_INDEX, false)) {
                    throw new IOException("neither " + HubFiles.SINGLE_WEIGHTS + " nor " + HubFiles.WEIGHTS_INDEX
                            + " found in " + id + ": the repository has no safetensors weights");
                }
                for (String shard : HubFiles.shardsIn(cache.pointer(commit, HubFiles.WEIGHTS_INDEX))) {
                    file(shard, true);
                }
            }
            if (commit == null) {
                throw new IllegalStateException("no file of " + id + " was fetched, so no commit is known");
            }
            Path dir = cache.snapshotDir(commit);
            log.info("{} is at commit {}: {}", id, commit, dir);
            return dir;
        }

        /** Makes {@code snapshots/{commit}/{file}} exist; false when an optional file is absent from the repo. */
        boolean file(String file, boolean required) throws IOException {
            if (commit != null) {
                if (Files.exists(cache.pointer(commit, file))) {
                    return true; // a commit is immutable: nothing to ask
                }
                if (!required && cache.knownMissing(commit, file)) {
                    return false;
                }
            }
            URI url = resolveUrl(commit != null ? commit : id.revision(), file);
            HttpResponse<Void> head = http.head(url);
            int status = head.statusCode();
            if (!(status < 300 || HubHttp.isRedirect(status))) {
                absent(head, file, required);
                return false;
            }
            FileMetadata meta = FileMetadata.of(head, file);
            learnCommit(meta.commit(), file);
            Path pointer = cache.pointer(commit, file);
            if (Files.exists(pointer)) {
                return true;
            }
            Path blob = cache.blob(meta.etag());
            if (!Files.exists(blob)) {
                cache.withBlobLock(meta.etag(), () -> {
                    if (!Files.exists(blob)) {
                        log.info("downloading {} of {} ({} bytes) from {}", file, id, meta.size(),
                                HubHttp.display(meta.downloadUrl()));
                        download.fetch(file + " of " + id.repoId(), meta, cache.incomplete(meta.etag()), blob,
                                progress);
                    }
                });
            }
            cache.link(commit, file, meta.etag());
            return true;
        }

        private void learnCommit(String answered, String file) throws IOException {
            if (commit == null) {
                commit = answered;
                if (!id.revision().equals(commit)) {
                    cache.writeRef(id.revision(), commit);
                }
            } else if (!commit.equals(answered)) {
                throw new IOException("the hub answered commit " + answered + " for " + file + " of " + id
                        + ", asked for commit " + commit);
            }
        }

        /** Explains a 4xx to HEAD; returns normally only for an optional file the repository does not have. */
        private void absent(HttpResponse<Void> head, String file, boolean required) throws IOException {
            int status = head.statusCode();
            String code = head.headers().firstValue("X-Error-Code").orElse("");
            String hubSays = head.headers().firstValue("X-Error-Message").map(m -> " The hub says: " + m).orElse("");
            String repo = id.repoId();
            if (status == 401 || status == 403) {
                String token = settings.token() == null ? "no token is set" : "the token that is set was refused";
                String why = code.equals("GatedRepo")
                        ? "the repository is gated: accept its terms on its hub page, then set HF_TOKEN"
                        : code.equals("RepoNotFound")
                                ? "the repository is private or does not exist: check the id, set HF_TOKEN"
                                : "set HF_TOKEN";
                throw new IOException("access denied to " + repo + " (HTTP " + status + " for " + file + ", " + token
                        + "): " + why + " to a token with read access." + hubSays);
            }
            if (status == 404 && code.equals("RepoNotFound")) {
                throw new IOException("repository " + repo + " not found on " + settings.endpoint()
                        + " (HTTP 404): check the id; if it is private or gated, set HF_TOKEN." + hubSays);
            }
            if (status == 404 && code.equals("RevisionNotFound")) {
                throw new IOException("revision '" + id.revision() + "' not found in " + repo + " (HTTP 404)."
                        + hubSays);
            }
            if (status == 404) {
                String at = id.revision() + (commit != null && !commit.equals(id.revision())
                        ? " (commit " + commit + ")" : "");
                if (required) {
                    throw new IOException(file + " not found in " + repo + "@" + at + " (HTTP 404)." + hubSays);
                }
                String answered = head.headers().firstValue("X-Repo-Commit").map(String::strip).orElse("");
                String markAt = commit != null ? commit : HubId.isCommitSha(answered) ? answered : null;
                if (markAt != null) {
                    cache.markMissing(markAt, file);
                }
                log.debug("{} is not in {}@{} (optional)", file, repo, at);
                return;
            }
            throw new IOException("HEAD " + HubHttp.display(head.uri()) + " for " + file + " of " + repo
                    + " answered HTTP " + status + (code.isEmpty() ? "" : " (" + code + ")") + "." + hubSays);
        }

        private URI resolveUrl(String revision, String file) {
            return URI.create(settings.endpoint() + "/" + id.owner() + "/" + id.name() + "/resolve/"
                    + revision.replace("/", "%2F") + "/" + file);
        }
    }
}
