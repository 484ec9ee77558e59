/* digest: prints OpenSSL's version and the SHA-256 of each argument (default "planner"),
 * one "sha256(<text>)=<hex>" line each. Dynamically linked against glibc and OpenSSL
 * from the store, it shows that a C program's libraries land in its image's closure. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

static int print_sha256(const char *text) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL)) {
        fprintf(stderr, "digest: EVP_Digest failed\n");
        return 1;
    }
    printf("sha256(%s)=", text);
    for (unsigned int i = 0; i < len; i++) printf("%02x", md[i]);
    printf("\n");
    return 0;
}

int main(int argc, char **argv) {
    /* Touch libssl too, so the program needs both of OpenSSL's libraries at run time. */
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) {
        fprintf(stderr, "digest: cannot create a TLS context\n");
        return 1;
    }
    SSL_CTX_free(ctx);
    printf("openssl=%s\n", OpenSSL_version(OPENSSL_VERSION));
    if (argc < 2) return print_sha256("planner");
    for (int i = 1; i < argc; i++)
        if (print_sha256(argv[i])) return 1;
    return 0;
}
