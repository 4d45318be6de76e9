package dev.tuneloop.model.text;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The byte-level BPE tokenizer of a Qwen2 model folder ({@code tokenizer.json}), through DJL's binding of the
 * Hugging Face {@code tokenizers} library, configured as {@code tokenizer(text, add_special_tokens=False)}: no
 * truncation (DJL's default cuts at 512), no padding, no BOS/EOS added. Added tokens written in the text, such as
 * {@code <|im_start|>}, are recognised and encoded as their single ids, as Hugging Face does.
 *
 * <p>Thread-safety: {@link #encode} and the decode methods may be called from many threads at once. The native
 * tokenizer is configured once in {@link #load} and then only read (the Rust {@code Tokenizer::encode}/{@code decode}
 * take it by shared reference). {@link #close()} frees the native object and must not race with any other call.
 */
public final class QwenTokenizer implements AutoCloseable {

    public static final String TOKENIZER_FILE = "tokenizer.json";

    private final Path file;
    private final HuggingFaceTokenizer tokenizer;
    private final Map<String, Long> addedTokens;
    private final Set<Long> specialIds;
    private final List<String> specialTokens;
    private final int vocabSize;

    private QwenTokenizer(Path file, HuggingFaceTokenizer tokenizer, Vocabulary vocabulary) {
        this.file = file;
        this.tokenizer = tokenizer;
        this.addedTokens = Collections.unmodifiableMap(vocabulary.addedTokens);
        this.specialIds = Collections.unmodifiableSet(vocabulary.specialIds);
        this.specialTokens = vocabulary.addedTokens.entrySet().stream()
                .filter(e -> vocabulary.specialIds.contains(e.getValue()))
                .map(Map.Entry::getKey)
                .toList();
        this.vocabSize = vocabulary.size();
    }

    /** Loads {@code modelDir/tokenizer.json} from disk; never contacts the Hugging Face hub. */
    public static QwenTokenizer load(Path modelDir) throws IOException {
        if (!Files.exists(modelDir)) {
            throw new NoSuchFileException(modelDir.toString(), null, "model folder for the tokenizer does not exist");
        }
        if (!Files.isDirectory(modelDir)) {
            throw new NotDirectoryException(modelDir + " (expected a model folder holding " + TOKENIZER_FILE + ")");
        }
        Path file = modelDir.resolve(TOKENIZER_FILE);
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null,
                    "no " + TOKENIZER_FILE + " in model folder " + modelDir.toAbsolutePath());
        }
        Vocabulary vocabulary = Vocabulary.read(file);
        Map<String, String> options = Map.of(
                "truncation", "false",
                "padding", "false",
                "addSpecialTokens", "false");
        HuggingFaceTokenizer tokenizer;
        try {
            tokenizer = HuggingFaceTokenizer.newInstance(file, options);
        } catch (RuntimeException e) {
            throw new IOException("cannot load tokenizer " + file + ": " + e.getMessage(), e);
        }
        return new QwenTokenizer(file, tokenizer, vocabulary);
    }

    public long[] encode(String text) {
        if (text == null) {
            throw new IllegalArgumentException("text to encode must not be null");
        }
        return tokenizer.encode(text).getIds();
    }

    /** The text of {@code ids}, special tokens included (HF {@code skip_special_tokens=False}). */
    public String decode(long[] ids) {
        return tokenizer.decode(checked(ids), false);
    }

    /**
     * The text of {@code ids} without the added tokens marked special in {@code tokenizer.json} (for Qwen2.5
     * {@code <|endoftext|>}, {@code <|im_start|>}, {@code <|im_end|>} and the vision markers; {@code <tool_call>} and
     * the FIM markers are not special and stay), as HF {@code skip_special_tokens=True}.
     */
    public String decodeSkippingSpecial(long[] ids) {
        return tokenizer.decode(checked(ids), true);
    }

    /**
     * Number of ids the tokenizer knows, added tokens included (HF {@code len(tokenizer)}: 151,665 for Qwen2.5).
     * The model's embedding may have more rows (151,936); ids from here up to that decode to "".
     */
    public int vocabSize() {
        return vocabSize;
    }

    /**
     * The id of one token: an added token by its exact content (e.g. {@code <|im_end|>}), otherwise text that encodes
     * to exactly one id.
     */
    public long tokenId(String token) {
        Long added = addedTokens.get(token);
        if (added != null) {
            return added;
        }
        if (token == null || token.isEmpty()) {
            throw new IllegalArgumentException("token must not be null or empty (tokenizer " + file + ")");
        }
        long[] ids = encode(token);
        if (ids.length != 1) {
            throw new IllegalArgumentException("'" + token + "' is not a single token of " + file + ": it encodes to "
                    + ids.length + " ids " + Arrays.toString(ids));
        }
        return ids[0];
    }

    public boolean isSpecial(long id) {
        return specialIds.contains(id);
    }

    /** Contents of the added tokens marked special, in id order (e.g. {@code <|endoftext|>}, {@code <|im_start|>}). */
    public List<String> specialTokens() {
        return specialTokens;
    }

    public Path file() {
        return file;
    }

    @Override
    public void close() {
        tokenizer.close();
    }

    private long[] checked(long[] ids) {
        if (ids == null) {
            throw new IllegalArgumentException("ids to decode must not be null");
        }
        for (int i = 0; i < ids.length; i++) {
            // The native side casts to u32: a negative id (e.g. a -100 label) would wrap and silently vanish.
            if (ids[i] < 0 || ids[i] > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("cannot decode id " + ids[i] + " at position " + i
                        + ": token ids are 0.." + (vocabSize - 1) + " (ids up to the embedding size decode to \"\")");
            }
        }
        return ids;
    }

    /** What DJL does not expose: the added tokens with their special flag, and the size of the BPE vocabulary. */
    private static final class Vocabulary {
        final Map<String, Long> addedTokens = new LinkedHashMap<>();
        final Set<Long> specialIds = new HashSet<>();
        long maxId = -1;

        int size() {
            return Math.toIntExact(maxId + 1);
        }

        /** Streams the ~5 MB file: only {@code added_tokens} and {@code model.vocab} are looked at. */
        static Vocabulary read(Path file) throws IOException {
            ObjectMapper mapper = new ObjectMapper();
            Vocabulary v = new Vocabulary();
            boolean sawVocab = false;
            try (JsonParser p = mapper.createParser(file.toFile())) {
                expect(p, p.nextToken(), JsonToken.START_OBJECT, file, "the top level");
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String field = p.currentName();
                    JsonToken value = p.nextToken();
                    if (field.equals("added_tokens")) {
                        v.readAddedTokens(mapper.readTree(p), file);
                    } else if (field.equals("model")) {
                        expect(p, value, JsonToken.START_OBJECT, file, "model");
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            String modelField = p.currentName();
                            JsonToken modelValue = p.nextToken();
                            if (modelField.equals("vocab")) {
                                expect(p, modelValue, JsonToken.START_OBJECT, file, "model.vocab");
                                v.readVocab(p, file);
                                sawVocab = true;
                            } else {
                                p.skipChildren();
                            }
                        }
                    } else {
                        p.skipChildren();
                    }
                }
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IOException("malformed tokenizer file " + file + ": " + e.getOriginalMessage()
                        + " at " + e.getLocation(), e);
            }
            if (!sawVocab) {
                throw new IOException("tokenizer file " + file + " has no model.vocab object");
            }
            return v;
        }

        private void readVocab(JsonParser p, Path file) throws IOException {
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String token = p.currentName();
                if (p.nextToken() != JsonToken.VALUE_NUMBER_INT) {
                    throw new IOException("tokenizer file " + file + ": model.vocab entry '" + token
                            + "' must map to an integer id, got " + p.currentToken());
                }
                maxId = Math.max(maxId, p.getLongValue());
            }
        }

        private void readAddedTokens(JsonNode tokens, Path file) throws IOException {
            if (!tokens.isArray()) {
                throw new IOException("tokenizer file " + file + ": added_tokens must be an array, got "
                        + tokens.getNodeType());
            }
            for (JsonNode t : tokens) {
                JsonNode id = t.get("id");
                JsonNode content = t.get("content");
                if (id == null || !id.canConvertToLong() || content == null || !content.isTextual()) {
                    throw new IOException("tokenizer file " + file
                            + ": added token needs an integer 'id' and a string 'content', got " + t);
                }
                addedTokens.put(content.textValue(), id.longValue());
                if (t.path("special").asBoolean(false)) {
                    specialIds.add(id.longValue());
                }
                maxId = Math.max(maxId, id.longValue());
            }
        }

        private static void expect(JsonParser p, JsonToken actual, JsonToken expected, Path file, String where)
                throws IOException {
            if (actual != expected) {
                throw new IOException("tokenizer file " + file + ": expected " + expected + " for " + where
                        + ", got " + actual + " at " + p.currentLocation());
            }
        }
    }
}
