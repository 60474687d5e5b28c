/*
 * http_date.c: formatting and parsing of the dates of http_date.h, by
 * counting days from 1970 (proleptic Gregorian calendar, UTC, no leap
 * seconds, as HTTP dates are).
 */
#include <string.h>

#include "http_chars.h"
#include "http_date.h"
#include "text.h"

static const char *const wkday[7] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const wkday_long[7] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
};
static const char *const month_name[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

#define MIN_YEAR 1970
#define MAX_YEAR 9999

static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int month_days(int y, int m)    /* m 0..11 */
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return days[m] + (m == 1 && is_leap(y));
}

/* Leap years from year 1 through y. */
static int64_t leaps_through(int y) { return y / 4 - y / 100 + y / 400; }

static int64_t days_from_civil(int y, int m, int d)
{
	int64_t days = 365 * (int64_t)(y - 1970) + leaps_through(y - 1) - leaps_through(1969);
	for (int i = 0; i < m; i++)
		days += month_days(y, i);
	return days + d - 1;
}

struct civil {
	int year, month, day, hour, min, sec, wday;     /* month 0..11, wday 0 = Sunday */
};

static void civil_from_time(int64_t t, struct civil *c)
{
	if (t < 0)
		t = 0;
	int64_t days = t / 86400, secs = t % 86400;
	c->wday = (int)((days + 4) % 7);        /* 1970-01-01 was a Thursday */
	c->hour = (int)(secs / 3600);
	c->min = (int)(secs / 60 % 60);
	c->sec = (int)(secs % 60);
	/* The year from an estimate, corrected by the exact day its January
	 * 1st falls on: a step or two, not one per year since 1970 (this runs
	 * for the Date of every response). */
	int y = days / 366 > MAX_YEAR - MIN_YEAR ? MAX_YEAR : MIN_YEAR + (int)(days / 366);
	while (y < MAX_YEAR && days_from_civil(y + 1, 0, 1) <= days)
		y++;
	days -= days_from_civil(y, 0, 1);
	int m = 0;
	while (m < 11 && days >= month_days(y, m)) {
		days -= month_days(y, m);
		m++;
	}
	c->year = y;
	c->month = m;
	c->day = (int)days + 1;
}

/* "HH:MM:SS" */
static void put_time_of_day(struct text *o, const struct civil *c)
{
	text_uint_width(o, (unsigned)c->hour, 2);
	text_char(o, ':');
	text_uint_width(o, (unsigned)c->min, 2);
	text_char(o, ':');
	text_uint_width(o, (unsigned)c->sec, 2);
}

void http_date_format(int64_t t, char *out)
{
	struct civil c;
	civil_from_time(t, &c);
	struct text o = text_on(out, HTTP_DATE_LEN + 1);
	text_bytes(&o, wkday[c.wday], 3);
	text_bytes(&o, ", ", 2);
	text_uint_width(&o, (unsigned)c.day, 2);
	text_char(&o, ' ');
	text_bytes(&o, month_name[c.month], 3);
	text_char(&o, ' ');
	text_uint_width(&o, (unsigned)c.year, 4);
	text_char(&o, ' ');
	put_time_of_day(&o, &c);
	text_bytes(&o, " GMT", 4);
	text_end(&o);
}

void http_log_date_format(int64_t t, char *out)
{
	struct civil c;
	civil_from_time(t, &c);
	struct text o = text_on(out, HTTP_LOG_DATE_LEN + 1);
	text_uint_width(&o, (unsigned)c.day, 2);
	text_char(&o, '/');
	text_bytes(&o, month_name[c.month], 3);
	text_char(&o, '/');
	text_uint_width(&o, (unsigned)c.year, 4);
	text_char(&o, ':');
	put_time_of_day(&o, &c);
	text_bytes(&o, " +0000", 6);
	text_end(&o);
}

/* A fixed-width decimal field of s; -1 if a character is not a digit. */
static int number(const char *s, size_t width)
{
	int v = 0;
	for (size_t i = 0; i < width; i++) {
		if (!http_is_digit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int month_of(const char *s)
{
	for (int m = 0; m < 12; m++)
		if (memcmp(s, month_name[m], 3) == 0)
			return m;
	return -1;
}

/* "HH:MM:SS" */
static int time_of_day(const char *s, struct civil *c)
{
	if (s[2] != ':' || s[5] != ':')
		return -1;
	c->hour = number(s, 2);
	c->min = number(s + 3, 2);
	c->sec = number(s + 6, 2);
	return c->hour < 0 || c->min < 0 || c->sec < 0 ? -1 : 0;
}

static int to_time(const struct civil *c, int64_t *t)
{
	if (c->year < MIN_YEAR || c->year > MAX_YEAR || c->month < 0 || c->day < 1 ||
	    c->day > month_days(c->year, c->month) || c->hour > 23 || c->min > 59 || c->sec > 60)
		return -1;      /* 60: a leap second, allowed by the grammar */
	*t = days_from_civil(c->year, c->month, c->day) * 86400 + c->hour * 3600 + c->min * 60 +
	     c->sec;
	return 0;
}

static int starts_with_day(const char *s, size_t n, const char *const *names, size_t *len)
{
	for (int i = 0; i < 7; i++) {
		size_t l = strlen(names[i]);
		if (n >= l && memcmp(s, names[i], l) == 0) {
			*len = l;
			return i;
		}
	}
	return -1;
}

int http_date_parse(const char *s, size_t n, int64_t *t)
{
	struct civil c = { 0 };
	size_t dl;
	/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
	if (n == HTTP_DATE_LEN && starts_with_day(s, n, wkday, &dl) >= 0 && s[3] == ',' &&
	    s[4] == ' ' && s[7] == ' ' && s[11] == ' ' && s[16] == ' ' &&
	    memcmp(s + 25, " GMT", 4) == 0) {
		c.day = number(s + 5, 2);
		c.month = month_of(s + 8);
		c.year = number(s + 12, 4);
		if (c.day < 0 || time_of_day(s + 17, &c) < 0)
			return -1;
		return to_time(&c, t);
	}
	/* asctime: "Sun Nov  6 08:49:37 1994" */
	if (n == 24 && starts_with_day(s, n, wkday, &dl) >= 0 && s[3] == ' ' && s[7] == ' ' &&
	    s[10] == ' ' && s[19] == ' ') {
		c.month = month_of(s + 4);
		c.day = s[8] == ' ' ? number(s + 9, 1) : number(s + 8, 2);
		c.year = number(s + 20, 4);
		if (c.day < 0 || time_of_day(s + 11, &c) < 0)
			return -1;
		return to_time(&c, t);
	}
	/* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
	if (starts_with_day(s, n, wkday_long, &dl) >= 0 && n == dl + 24 && s[dl] == ',' &&
	    s[dl + 1] == ' ' && s[dl + 4] == '-' && s[dl + 8] == '-' && s[dl + 11] == ' ' &&
	    memcmp(s + dl + 20, " GMT", 4) == 0) {
		const char *d = s + dl + 2;
		c.day = number(d, 2);
		c.month = month_of(d + 3);
		int yy = number(d + 7, 2);
		if (c.day < 0 || yy < 0 || time_of_day(d + 10, &c) < 0)
			return -1;
		/* RFC 9110 §5.6.7: a two-digit year that would be more than 50
		 * years ahead is in the past century; our clock's era is 20xx. */
		c.year = yy < 70 ? 2000 + yy : 1900 + yy;
		return to_time(&c, t);
	}
	return -1;
}
