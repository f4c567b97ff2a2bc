package dev.transferengine.api;

import java.util.List;

/** The argument checks the request records share: each throws {@link InvalidRequestException} naming the argument. */
final class RequestChecks {
    private RequestChecks() {
    }

    static void requireNonNegative(long value, String name) {
        if (value < 0) {
            throw new InvalidRequestException(name + " must be >= 0, got " + value);
        }
    }

    /** A copy of {@code list} with no null elements (List.copyOf would throw a bare NullPointerException). */
    static <T> List<T> copyNoNulls(List<T> list, String name) {
        requireNonNull(list, name);
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i) == null) {
                throw new InvalidRequestException(name + " element " + i + " is null");
            }
        }
        return List.copyOf(list);
    }

    static <T> T requireNonNull(T value, String name) {
        if (value == null) {
            throw new InvalidRequestException(name + " must not be null");
        }
        return value;
    }
}
