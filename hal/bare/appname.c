/*
 * appname.c: the service's name, argv[0] of kernel_main; bare.mk compiles
 * this once per service with -DTORO_APP_NAME='"<APP>"'.
 */
const char bare_app_name[] = TORO_APP_NAME;
