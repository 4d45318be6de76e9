package dev.tuneloop.model.hub;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One repository's folder in the Hugging Face cache, laid out exactly as huggingface_hub lays it out, so that
 * either can reuse what the other downloaded:
 * <pre>
 * {cache}/models--{owner}--{name}/
 *     blobs/{etag}                      content, named by git blob sha or LFS sha256
 *     blobs/{etag}.incomplete           while downloading; never used as content
 *     snapshots/{commit}/{file}         relative symlink to ../../blobs/{etag} (one more ../ per subfolder)
 *     refs/{revision}                   the commit sha a branch or tag pointed at, no newline
 *     .no_exist/{commit}/{file}         empty marker: the file is known to be absent at that commit
 * {cache}/.locks/models--{owner}--{name}/{etag}.lock
 * </pre>
 */
final class HubCache {
    private static final Logger log = LoggerFactory.getLogger(HubCache.class);
    private static final ConcurrentHashMap<Path, ReentrantLock> JVM_LOCKS = new ConcurrentHashMap<>();

    /** Work on a blob while holding its lock, within this JVM and across processes. */
    interface BlobWork {
        void run() throws IOException;
    }

    private final Path root;
    private final Path repo;
    private final HubId id;

    HubCache(Path cacheDir, HubId id) {
        this.root = cacheDir;
        this.id = id;
        this.repo = cacheDir.resolve(id.cacheFolderName());
    }

    Path repoDir() {
        return repo;
    }

    Path blob(String etag) {
        return repo.resolve("blobs").resolve(etag);
    }

    Path incomplete(String etag) {
        return repo.resolve("blobs").resolve(etag + ".incomplete");
    }

    Path snapshotDir(String commit) {
        return repo.resolve("snapshots").resolve(commit);
    }

    Path pointer(String commit, String file) {
        return snapshotDir(commit).resolve(file);
    }

    /** The commit a revision points at in the cache: the revision itself if it is a cached commit, else its ref. */
    Optional<String> commitOf(String revision) throws IOException {
        if (HubId.isCommitSha(revision) && Files.isDirectory(snapshotDir(revision))) {
            return Optional.of(revision);
        }
        Path ref = repo.resolve("refs").resolve(revision);
        if (!Files.isRegularFile(ref)) {
            return Optional.empty();
        }
        String commit = Files.readString(ref, StandardCharsets.UTF_8).strip();
        if (!HubId.isCommitSha(commit)) {
            throw new IOException("cache ref " + ref + " holds '" + commit + "', not a 40-hex commit sha");
        }
        return Optional.of(commit);
    }

    void writeRef(String revision, String commit) throws IOException {
        Path ref = repo.resolve("refs").resolve(revision);
        if (Files.isRegularFile(ref) && Files.readString(ref, StandardCharsets.UTF_8).strip().equals(commit)) {
            return;
        }
        Files.createDirectories(ref.getParent());
        Path tmp = Files.createTempFile(ref.getParent(), ".ref-", ".tmp");
        Files.writeString(tmp, commit, StandardCharsets.UTF_8);
        move(tmp, ref);
    }

    void markMissing(String commit, String file) throws IOException {
        Path marker = repo.resolve(".no_exist").resolve(commit).resolve(file);
        Files.createDirectories(marker.getParent());
        if (!Files.exists(marker)) {
            Files.createFile(marker);
        }
    }

    boolean knownMissing(String commit, String file) {
        return Files.exists(repo.resolve(".no_exist").resolve(commit).resolve(file));
    }

    /**
     * Makes {@code snapshots/{commit}/{file}} point at the blob: a relative symlink, or a copy of the blob where
     * this file system cannot make symlinks.
     */
    void link(String commit, String file, String etag) throws IOException {
        Path pointer = pointer(commit, file);
        Path blob = blob(etag);
        Files.createDirectories(pointer.getParent());
        Files.deleteIfExists(pointer); // a dangling or stale link
        Path target = pointer.getParent().relativize(blob);
        try {
            Files.createSymbolicLink(pointer, target);
        } catch (FileAlreadyExistsException e) {
            // another process linked it at the same time: same commit and file, same blob
        } catch (UnsupportedOperationException | IOException e) {
            log.warn("cannot create symlink {} -> {} ({}); copying the blob instead", pointer, target,
                    HubHttp.describe(e));
            Path tmp = pointer.resolveSibling(pointer.getFileName() + ".copy-tmp");
            Files.copy(blob, tmp, StandardCopyOption.REPLACE_EXISTING);
            move(tmp, pointer);
        }
    }

    /** Required files (and weights) absent from {@code snapshots/{commit}/}; a dangling symlink counts as absent. */
    List<String> missing(String commit, HubFiles files) throws IOException {
        List<String> missing = new ArrayList<>();
        for (String f : files.required()) {
            if (!Files.exists(pointer(commit, f))) {
                missing.add(f);
            }
        }
        if (files.safetensorsWeights() && !Files.exists(pointer(commit, HubFiles.SINGLE_WEIGHTS))) {
            Path index = pointer(commit, HubFiles.WEIGHTS_INDEX);
            if (!Files.exists(index)) {
                missing.add(HubFiles.SINGLE_WEIGHTS + " (or " + HubFiles.WEIGHTS_INDEX + " and its shards)");
            } else {
                for (String shard : HubFiles.shardsIn(index)) {
                    if (!Files.exists(pointer(commit, shard))) {
                        missing.add(shard);
                    }
                }
            }
        }
        return missing;
    }

    void withBlobLock(String etag, BlobWork work) throws IOException {
        Path lockFile = root.resolve(".locks").resolve(id.cacheFolderName()).resolve(etag + ".lock");
        Files.createDirectories(lockFile.getParent());
        ReentrantLock jvmLock = JVM_LOCKS.computeIfAbsent(lockFile, p -> new ReentrantLock());
        jvmLock.lock();
        try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            FileLock lock = channel.lock();
            try {
                work.run();
            } finally {
                lock.release();
            }
        } finally {
            jvmLock.unlock();
        }
    }

    static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
