package dev.tuneloop.model.safetensors;

import java.io.IOException;

/** A safetensors file or sharded checkpoint index that breaks the format; the message names the file and the field. */
public class SafetensorsFormatException extends IOException {
    public SafetensorsFormatException(String message) {
        super(message);
    }

    public SafetensorsFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
