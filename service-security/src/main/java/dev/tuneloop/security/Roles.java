package dev.tuneloop.security;

import java.util.Set;

/** The role names used in {@code @RolesAllowed}; an operator holds all three. */
public final class Roles {
    public static final String OPERATOR = "operator";
    public static final String VIEWER = "viewer";
    public static final String CLIENT = "client";

    private Roles() {}

    /** The roles a token of {@code role} grants. */
    static Set<String> granted(String role) {
        return OPERATOR.equals(role) ? Set.of(OPERATOR, VIEWER, CLIENT) : Set.of(role);
    }
}
