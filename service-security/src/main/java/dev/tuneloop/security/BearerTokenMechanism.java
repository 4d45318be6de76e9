package dev.tuneloop.security;

import io.quarkus.security.credential.TokenCredential;
import io.quarkus.security.identity.IdentityProviderManager;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.request.AuthenticationRequest;
import io.quarkus.security.identity.request.TokenAuthenticationRequest;
import io.quarkus.security.runtime.QuarkusPrincipal;
import io.quarkus.security.runtime.QuarkusSecurityIdentity;
import io.quarkus.vertx.http.runtime.security.ChallengeData;
import io.quarkus.vertx.http.runtime.security.HttpAuthenticationMechanism;
import io.quarkus.vertx.http.runtime.security.HttpCredentialTransport;
import io.quarkus.vertx.http.runtime.security.HttpSecurityUtils;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Optional;
import java.util.Set;

/**
 * Reads {@code Authorization: Bearer <token>} and hands the token to {@link TokenIdentityProvider}. No header (or
 * another scheme) is anonymous: endpoints with {@code @RolesAllowed} then answer 401 with
 * {@code WWW-Authenticate: Bearer}; {@code /q/health} and {@code /q/metrics} carry no role and stay open. With
 * {@code tuneloop.auth.enabled=false} every request is a local caller holding every role.
 */
@ApplicationScoped
public class BearerTokenMechanism implements HttpAuthenticationMechanism {
    private static final String BEARER = "Bearer ";
    private static final SecurityIdentity LOCAL = QuarkusSecurityIdentity.builder()
            .setPrincipal(new QuarkusPrincipal("local (tuneloop.auth.enabled=false)"))
            .addRoles(Roles.granted(Roles.OPERATOR))
            .build();

    private final AuthConfig config;

    public BearerTokenMechanism(AuthConfig config) {
        this.config = config;
    }

    @Override
    public Uni<SecurityIdentity> authenticate(RoutingContext context, IdentityProviderManager identities) {
        if (!config.enabled()) {
            return Uni.createFrom().item(LOCAL);
        }
        String header = context.request().getHeader(HttpHeaders.AUTHORIZATION);
        if (header == null || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return Uni.createFrom().optional(Optional.empty());
        }
        TokenAuthenticationRequest request = new TokenAuthenticationRequest(
                new TokenCredential(header.substring(BEARER.length()).strip(), "bearer"));
        HttpSecurityUtils.setRoutingContextAttribute(request, context);
        return identities.authenticate(request);
    }

    @Override
    public Uni<ChallengeData> getChallenge(RoutingContext context) {
        return Uni.createFrom().item(new ChallengeData(401, "WWW-Authenticate", "Bearer"));
    }

    @Override
    public Set<Class<? extends AuthenticationRequest>> getCredentialTypes() {
        return Set.of(TokenAuthenticationRequest.class);
    }

    @Override
    public Uni<HttpCredentialTransport> getCredentialTransport(RoutingContext context) {
        return Uni.createFrom().item(new HttpCredentialTransport(HttpCredentialTransport.Type.AUTHORIZATION, "bearer"));
    }
}
