/*
 * ToroHello: the smallest Toro/C service.
 */
#include "toro.h"

int main(void)
{
	WriteConsoleF("Hello World\n");
	return 0;
}
