/* certinfo: reads a PEM CA bundle ($SSL_CERT_FILE, else /etc/ssl/certs/ca-bundle.crt)
 * with OpenSSL and prints how many certificates it holds and the subject of the first. */
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    const char *path = getenv("SSL_CERT_FILE");
    if (path == NULL || *path == '\0') path = "/etc/ssl/certs/ca-bundle.crt";
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        perror(path);
        return 1;
    }
    int count = 0;
    char first[512] = "";
    X509 *cert;
    while ((cert = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
        if (count++ == 0) X509_NAME_oneline(X509_get_subject_name(cert), first, sizeof first);
        X509_free(cert);
    }
    fclose(f);
    printf("bundle=%s\ncertificates=%d\nfirst=%s\n", path, count, first);
    return count > 0 ? 0 : 1;
}
