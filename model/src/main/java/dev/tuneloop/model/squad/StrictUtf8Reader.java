package dev.tuneloop.model.squad;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Decodes UTF-8 strictly: a malformed or truncated sequence (overlong forms, encoded surrogates, stray
 * continuation bytes included) fails with the source name, the byte offset and the line, instead of turning into
 * U+FFFD as {@code InputStreamReader} would. More than {@code maxBytes} bytes fail too, naming the limit.
 */
final class StrictUtf8Reader extends Reader {
    private final InputStream in;
    private final String source;
    private final long maxBytes;
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    private final ByteBuffer bytes = ByteBuffer.allocate(1 << 16).flip();
    private final CharBuffer chars = CharBuffer.allocate(1 << 16).flip();
    /** File offset of {@code bytes.array()[0]}. */
    private long bytesBefore;
    /** 1 + the newlines decoded so far. */
    private long line = 1;
    private boolean endOfInput;
    private boolean flushed;

    StrictUtf8Reader(InputStream in, String source, long maxBytes) {
        this.in = in;
        this.source = source;
        this.maxBytes = maxBytes;
    }

    @Override
    public int read(char[] buf, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (!chars.hasRemaining()) {
            if (flushed) {
                return -1;
            }
            fill();
        }
        int n = Math.min(len, chars.remaining());
        chars.get(buf, off, n);
        return n;
    }

    /** Decodes at least one more char, or reaches the end. */
    private void fill() throws IOException {
        chars.clear();
        try {
            while (chars.position() == 0 && !flushed) {
                if (!bytes.hasRemaining() || (!endOfInput && bytes.remaining() < 4)) {
                    readBytes();
                }
                int start = chars.position();
                CoderResult result = decoder.decode(bytes, chars, endOfInput);
                countLines(start);
                if (result.isError()) {
                    throw malformed(result);
                }
                if (endOfInput && !bytes.hasRemaining()) {
                    start = chars.position();
                    result = decoder.flush(chars);
                    countLines(start);
                    if (result.isError()) {
                        throw malformed(result);
                    }
                    flushed = true;
                }
            }
        } finally {
            chars.flip();
        }
    }

    private void readBytes() throws IOException {
        bytesBefore += bytes.position();
        bytes.compact();
        int n = in.read(bytes.array(), bytes.position(), bytes.remaining());
        if (n < 0) {
            endOfInput = true;
        } else {
            bytes.position(bytes.position() + n);
        }
        bytes.flip();
        if (bytesBefore + bytes.limit() > maxBytes) {
            throw new SquadDataException(source + " is larger than " + maxBytes + " bytes, the dataset size limit ("
                    + "SquadReader.MAX_FILE_BYTES): split it, or sample it with --train-limit from a smaller file");
        }
    }

    private void countLines(int from) {
        for (int i = from; i < chars.position(); i++) {
            if (chars.get(i) == '\n') {
                line++;
            }
        }
    }

    private SquadDataException malformed(CoderResult result) {
        long offset = bytesBefore + bytes.position();
        StringBuilder hex = new StringBuilder();
        for (int i = 0; i < result.length() && bytes.position() + i < bytes.limit(); i++) {
            hex.append(String.format(" 0x%02X", bytes.get(bytes.position() + i) & 0xFF));
        }
        return new SquadDataException(source + ": invalid UTF-8 at byte offset " + offset + " (line " + line
                + "):" + hex + (endOfInput && bytes.position() + result.length() >= bytes.limit()
                        ? " (truncated sequence at end of input)" : ""));
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
