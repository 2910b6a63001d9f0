/**
 * Access control of a location that needs no network: basic-auth password files
 * ({@link dev.sluice.gateway.access.PasswordFile}), basic credentials, and digest authentication
 * ({@link dev.sluice.gateway.access.DigestCredentials}, {@link dev.sluice.gateway.access.DigestNonces}).
 *
 * <p>Pure Java on top of commons-codec, BouncyCastle and Caffeine: this package imports neither
 * Netty nor anything Kubernetes, so the translator can build these objects and the data plane can
 * use them without either depending on the other's world.
 */
package dev.sluice.gateway.access;
