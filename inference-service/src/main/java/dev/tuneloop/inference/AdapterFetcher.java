package dev.tuneloop.inference;

import dev.tuneloop.contracts.AdapterFiles;
import dev.tuneloop.contracts.AdapterPromoted;
import dev.tuneloop.contracts.StoredObject;
import dev.tuneloop.inference.AdapterRefusedException.Reason;
import dev.tuneloop.model.lora.LoraAdapter;
import dev.tuneloop.model.lora.LoraWeights;
import dev.tuneloop.model.qwen2.Qwen2ForCausalLM;
import dev.tuneloop.model.safetensors.CheckpointTensors;
import dev.tuneloop.model.safetensors.SafetensorsFile;
import dev.tuneloop.model.train.ServingPrompt;
import dev.tuneloop.storage.ChecksumMismatchException;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.ObjectUri;
import dev.tuneloop.storage.PolicyViolationException;
import dev.tuneloop.storage.StorageException;
import dev.tuneloop.storage.StoragePolicy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Prepares a promoted adapter off the request path: fetches every listed file (sha256 and size verified), reads the
 * LoRA arrays checked against the base model's shapes and {@code adapter_config.json}'s keys, and the prompt from its
 * {@code tuneloop_config.json}. {@code adapter_model.safetensors} is read from object storage straight into memory
 * (writing it to disk and reading it back cost ~40 % of a cold swap's preparation); the small files go through a
 * download folder, deleted afterwards: the snapshot holds everything in memory.
 */
public final class AdapterFetcher {
    private static final Logger LOG = LoggerFactory.getLogger(AdapterFetcher.class);
    private final ObjectStore store;
    private final StoragePolicy policy;
    private final Path workDir;
    private final Qwen2ForCausalLM lm;
    private final long maxAdapterBytes;
    private final Clock clock;

    /** @param policy the bucket and key prefixes adapter files may come from; others are refused unread */
    public AdapterFetcher(ObjectStore store, StoragePolicy policy, Path workDir, Qwen2ForCausalLM lm,
            long maxAdapterBytes, Clock clock) {
        this.store = store;
        this.policy = policy;
        this.workDir = workDir;
        this.lm = lm;
        this.maxAdapterBytes = maxAdapterBytes;
        this.clock = clock;
    }

    /**
     * A checkpoint's adapter read into memory and checked, not served yet: {@link #serve} makes the snapshot of a
     * promotion of exactly these files.
     */
    public record Prepared(String runId, String checkpoint, Map<String, StoredObject> files, LoraWeights weights,
            ServingPrompt prompt) {
        public Prepared {
            files = Map.copyOf(files);
        }

        public ServedAdapter serve(String promotedRunId, AdapterPromoted promotion, Instant since) {
            if (!files.equals(promotion.files())) {
                throw new IllegalArgumentException("promotion of " + promotedRunId + "/" + promotion.checkpoint()
                        + " lists other files than the prepared " + runId + "/" + checkpoint);
            }
            return new ServedAdapter(weights, prompt, promotion, promotedRunId, since);
        }

        /** The inverse of {@link #serve}: {@code served}'s arrays and prompt, ready to be served again. */
        public static Prepared of(ServedAdapter served) {
            return new Prepared(served.runId(), served.promotion().checkpoint(), served.promotion().files(),
                    served.weights(), served.prompt());
        }
    }

    /** Prepares and serves {@code promotion} (the cold path: nothing prepared in advance). */
    public ServedAdapter fetch(String runId, AdapterPromoted promotion) throws AdapterRefusedException {
        String what = "adapter " + runId + "/" + promotion.checkpoint() + " (generation " + promotion.generation() + ")";
        return prepare(what, runId, promotion.checkpoint(), promotion.files())
                .serve(runId, promotion, clock.instant());
    }

    /**
     * Downloads, verifies and reads the files of checkpoint {@code checkpoint} of run {@code runId} with every check
     * of a promotion; {@code what} names it in errors and logs.
     */
    public Prepared prepare(String what, String runId, String checkpoint, Map<String, StoredObject> files)
            throws AdapterRefusedException {
        long total = files.values().stream().mapToLong(StoredObject::size).sum();
        if (total > maxAdapterBytes) {
            throw new AdapterRefusedException(Reason.TOO_LARGE, what + ": its files add up to " + total
                    + " bytes, more than max-adapter-bytes " + maxAdapterBytes, null);
        }
        if (!files.containsKey(AdapterFiles.WEIGHTS)) {
            throw new AdapterRefusedException(Reason.MISSING_FILE, what + ": lists no " + AdapterFiles.WEIGHTS
                    + " (files: " + files.keySet() + ")", null);
        }
        Path dir;
        try {
            Files.createDirectories(workDir);
            dir = Files.createTempDirectory(workDir, "adapter-");
        } catch (IOException e) {
            throw new AdapterRefusedException(Reason.STORAGE, what + ": cannot make a download folder under "
                    + workDir + ": " + e.getMessage(), e);
        }
        try {
            long start = System.nanoTime();
            for (Map.Entry<String, StoredObject> file : files.entrySet()) {
                if (!file.getKey().equals(AdapterFiles.WEIGHTS)) {
                    download(what, file.getKey(), file.getValue(), dir);
                }
            }
            byte[] weightBytes = fetch(what, AdapterFiles.WEIGHTS, files.get(AdapterFiles.WEIGHTS));
            long downloaded = System.nanoTime();
            LoraWeights weights;
            try (CheckpointTensors tensors = CheckpointTensors.of(SafetensorsFile.read(
                    files.get(AdapterFiles.WEIGHTS).uri(), weightBytes))) {
                weights = LoraAdapter.read(lm, dir, tensors);
            } catch (IllegalArgumentException e) {
                throw new AdapterRefusedException(Reason.DOES_NOT_FIT, what + ": " + e.getMessage(), e);
            } catch (IOException | RuntimeException e) {
                throw new AdapterRefusedException(Reason.BAD_CONFIG, what + ": " + e.getMessage(), e);
            }
            ServingPrompt prompt;
            try {
                prompt = ServingPrompt.forAdapter(dir);
            } catch (IOException | RuntimeException e) {
                throw new AdapterRefusedException(Reason.BAD_CONFIG, what + ": " + ServingPrompt.CONFIG_FILE + ": "
                        + e.getMessage(), e);
            }
            // name the stored file, not the download folder that is gone after this method
            StoredObject config = files.get(ServingPrompt.CONFIG_FILE);
            prompt = new ServingPrompt(prompt.template(), prompt.maxSeqLen(), config != null ? config.uri()
                    : "defaults: the promotion lists no " + ServingPrompt.CONFIG_FILE);
            LOG.info("{}: {} bytes downloaded and sha256-checked in {} ms, read and checked against the model in {} ms",
                    what, total, (downloaded - start) / 1_000_000, (System.nanoTime() - downloaded) / 1_000_000);
            return new Prepared(runId, checkpoint, files, weights, prompt);
        } finally {
            deleteTree(dir);
        }
    }

    /** {@code object}'s bytes, verified like a {@link #download}. */
    private byte[] fetch(String what, String name, StoredObject object) throws AdapterRefusedException {
        ObjectUri uri = allowedUri(what, name, object);
        byte[] data;
        try {
            data = store.getBytes(uri, object.sha256(), (int) Math.min(maxAdapterBytes, Integer.MAX_VALUE - 8));
        } catch (IOException e) {
            throw refusal(what, name, e);
        }
        requireSize(what, name, object, data.length);
        return data;
    }

    private void download(String what, String name, StoredObject object, Path dir) throws AdapterRefusedException {
        ObjectUri uri = allowedUri(what, name, object);
        StoredObject got;
        try {
            got = store.get(uri, dir.resolve(name), object.sha256());
        } catch (IOException e) {
            throw refusal(what, name, e);
        }
        requireSize(what, name, object, got.size());
    }

    private static void requireSize(String what, String name, StoredObject object, long size)
            throws AdapterRefusedException {
        if (size != object.size()) {
            throw new AdapterRefusedException(Reason.SIZE, what + ": " + name + " (" + object.uri() + ") has " + size
                    + " bytes, the promotion says " + object.size(), null);
        }
    }

    private ObjectUri allowedUri(String what, String name, StoredObject object) throws AdapterRefusedException {
        ObjectUri uri;
        try {
            uri = ObjectUri.parse(object.uri());
        } catch (IllegalArgumentException e) {
            throw new AdapterRefusedException(Reason.MISSING_FILE, what + ": " + name + ": " + e.getMessage(), e);
        }
        try {
            policy.requireAllowed(uri);
        } catch (PolicyViolationException e) {
            throw new AdapterRefusedException(Reason.NOT_ALLOWED, what + ": " + name + ": " + e.getMessage(), e);
        }
        return uri;
    }

    private static AdapterRefusedException refusal(String what, String name, IOException e) {
        if (e instanceof ChecksumMismatchException) {
            return new AdapterRefusedException(Reason.CHECKSUM, what + ": " + name + ": " + e.getMessage(), e);
        }
        if (e instanceof StorageException s) {
            boolean missing = "NoSuchKey".equals(s.errorCode()) || "NoSuchBucket".equals(s.errorCode())
                    || s.httpStatus() == 404;
            return new AdapterRefusedException(missing ? Reason.MISSING_FILE : Reason.STORAGE,
                    what + ": " + name + ": " + e.getMessage(), e);
        }
        return new AdapterRefusedException(Reason.STORAGE, what + ": " + name + ": " + e.getMessage(), e);
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | UncheckedIOException e) {
            LOG.warn("cannot delete the download folder {} (it only costs disk): {}", dir, e.toString());
        }
    }
}
