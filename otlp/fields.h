/*
 * Field numbers and enum values of the OTLP messages (opentelemetry-proto,
 * v1) for code that writes them directly with pbwrite.h instead of through
 * protobuf-c. The numbers are the wire format: they never change once
 * published, so naming them costs nothing and saves every reader a trip to
 * the .proto files.
 */
#ifndef FD_OTLP_FIELDS_H
#define FD_OTLP_FIELDS_H

/* common.v1 */
enum {
	OTLP_KEYVALUE_KEY = 1,
	OTLP_KEYVALUE_VALUE = 2,
};
enum {
	OTLP_ANYVALUE_STRING = 1,
	OTLP_ANYVALUE_BOOL = 2,
	OTLP_ANYVALUE_INT = 3,
	OTLP_ANYVALUE_DOUBLE = 4,
};
enum {
	OTLP_SCOPE_NAME = 1,
	OTLP_SCOPE_VERSION = 2,
	OTLP_SCOPE_ATTRIBUTES = 3,
};

/* resource.v1 */
enum { OTLP_RESOURCE_ATTRIBUTES = 1 };

/* trace.v1.Span and its nested messages */
enum {
	OTLP_SPAN_TRACE_ID = 1,
	OTLP_SPAN_SPAN_ID = 2,
	OTLP_SPAN_TRACE_STATE = 3,
	OTLP_SPAN_PARENT_SPAN_ID = 4,
	OTLP_SPAN_NAME = 5,
	OTLP_SPAN_KIND = 6,
	OTLP_SPAN_START_TIME = 7,
	OTLP_SPAN_END_TIME = 8,
	OTLP_SPAN_ATTRIBUTES = 9,
	OTLP_SPAN_EVENTS = 11,
	OTLP_SPAN_LINKS = 13,
	OTLP_SPAN_STATUS = 15,
	OTLP_SPAN_FLAGS = 16,
};
enum {
	OTLP_EVENT_TIME = 1,
	OTLP_EVENT_NAME = 2,
	OTLP_EVENT_ATTRIBUTES = 3,
};
enum {
	OTLP_LINK_TRACE_ID = 1,
	OTLP_LINK_SPAN_ID = 2,
	OTLP_LINK_TRACE_STATE = 3,
	OTLP_LINK_ATTRIBUTES = 4,
	OTLP_LINK_FLAGS = 6,
};
enum {
	OTLP_STATUS_MESSAGE = 2,
	OTLP_STATUS_CODE = 3,
};
enum { OTLP_STATUS_CODE_UNSET = 0, OTLP_STATUS_CODE_OK = 1, OTLP_STATUS_CODE_ERROR = 2 };
enum {
	OTLP_SPAN_KIND_INTERNAL = 1,
	OTLP_SPAN_KIND_SERVER = 2,
	OTLP_SPAN_KIND_CLIENT = 3,
	OTLP_SPAN_KIND_PRODUCER = 4,
	OTLP_SPAN_KIND_CONSUMER = 5,
};
/* SpanFlags: the W3C trace flags in the low byte, then whether the parent
 * (or a link's span) is known to be remote. */
enum {
	OTLP_SPAN_FLAGS_SAMPLED = 0x01,
	OTLP_SPAN_FLAGS_HAS_IS_REMOTE = 0x100,
	OTLP_SPAN_FLAGS_IS_REMOTE = 0x200,
};

/* logs.v1.LogRecord */
enum {
	OTLP_LOG_TIME = 1,
	OTLP_LOG_SEVERITY_NUMBER = 2,
	OTLP_LOG_SEVERITY_TEXT = 3,
	OTLP_LOG_BODY = 5,
	OTLP_LOG_ATTRIBUTES = 6,
	OTLP_LOG_FLAGS = 8,
	OTLP_LOG_TRACE_ID = 9,
	OTLP_LOG_SPAN_ID = 10,
	OTLP_LOG_OBSERVED_TIME = 11,
	OTLP_LOG_EVENT_NAME = 12,
};
enum {
	OTLP_SEVERITY_DEBUG = 5,
	OTLP_SEVERITY_INFO = 9,
	OTLP_SEVERITY_WARN = 13,
	OTLP_SEVERITY_ERROR = 17,
	OTLP_SEVERITY_FATAL = 21,
};
/* LogRecordFlags: the W3C trace flags */
enum { OTLP_LOG_FLAGS_SAMPLED = 0x01 };

/* metrics.v1.Metric, its data and data points */
enum {
	OTLP_METRIC_NAME = 1,
	OTLP_METRIC_DESCRIPTION = 2,
	OTLP_METRIC_UNIT = 3,
	OTLP_METRIC_GAUGE = 5,
	OTLP_METRIC_SUM = 7,
	OTLP_METRIC_HISTOGRAM = 9,
};
enum {
	OTLP_DATA_POINTS = 1,             /* Gauge, Sum, Histogram */
	OTLP_DATA_TEMPORALITY = 2,        /* Sum, Histogram */
	OTLP_SUM_IS_MONOTONIC = 3,
};
enum { OTLP_TEMPORALITY_DELTA = 1, OTLP_TEMPORALITY_CUMULATIVE = 2 };
enum {
	OTLP_NUMBER_START_TIME = 2,
	OTLP_NUMBER_TIME = 3,
	OTLP_NUMBER_AS_DOUBLE = 4,
	OTLP_NUMBER_AS_INT = 6,
	OTLP_NUMBER_ATTRIBUTES = 7,
};
enum {
	OTLP_HISTOGRAM_START_TIME = 2,
	OTLP_HISTOGRAM_TIME = 3,
	OTLP_HISTOGRAM_COUNT = 4,
	OTLP_HISTOGRAM_SUM = 5,
	OTLP_HISTOGRAM_BUCKET_COUNTS = 6,
	OTLP_HISTOGRAM_EXPLICIT_BOUNDS = 7,
	OTLP_HISTOGRAM_ATTRIBUTES = 9,
};

#endif
