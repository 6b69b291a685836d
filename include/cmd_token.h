/*
 * `shortd token create [--name NAME] [--read-only] | list | revoke NAME`:
 * the API's bearer tokens, kept in the store as hashes. create prints the
 * secret once. Returns the process exit status of cmd_common.h.
 */
#ifndef SHORTD_CMD_TOKEN_H
#define SHORTD_CMD_TOKEN_H

int cmd_token_main(int argc, char **argv);

#endif
