package dev.transferengine.api;

import java.util.Map;
import java.util.function.Function;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * The rule of {@link TransferException}: each subclass carries exactly one category, and no subclass extends
 * another, so catching a type and switching on the category agree.
 */
class ErrorCategoryTest {
    private static final Map<Class<? extends TransferException>, ErrorCategory> CATEGORY_OF = Map.of(
            InvalidRequestException.class, ErrorCategory.INVALID_ARGUMENT,
            MalformedEncodingException.class, ErrorCategory.MALFORMED_ENCODING,
            ClosedException.class, ErrorCategory.CLOSED,
            TransferTimeoutException.class, ErrorCategory.TIMEOUT,
            ProviderUnavailableException.class, ErrorCategory.UNAVAILABLE);

    @Test
    void everySubclassCarriesItsOneCategory() {
        Map<Class<? extends TransferException>, Function<String, TransferException>> make = Map.of(
                InvalidRequestException.class, InvalidRequestException::new,
                MalformedEncodingException.class, MalformedEncodingException::new,
                ClosedException.class, ClosedException::new,
                TransferTimeoutException.class, TransferTimeoutException::new,
                ProviderUnavailableException.class, m -> new ProviderUnavailableException(m, null));
        assertEquals(CATEGORY_OF.keySet(), make.keySet());
        make.forEach((type, constructor) -> {
            TransferException e = constructor.apply("x");
            assertSame(type, e.getClass());
            assertEquals(CATEGORY_OF.get(type), e.category(), type.getSimpleName());
        });
        assertEquals(ErrorCategory.MALFORMED_ENCODING,
                new MalformedEncodingException("x", new IllegalStateException()).category());
    }

    @Test
    void noSubclassExtendsAnother() {
        for (Class<?> type : CATEGORY_OF.keySet()) {
            assertSame(TransferException.class, type.getSuperclass(), type.getSimpleName());
        }
    }

    @Test
    void aMalformedEncodingIsNotAnInvalidRequest() {
        TransferException e = Encodings.assertMalformed(() -> RemoteRegion.fromHex("zz"));
        assertFalse(e instanceof InvalidRequestException, "caught as InvalidRequestException but category " + e.category());
        assertEquals(ErrorCategory.MALFORMED_ENCODING, e.category());
    }
}
