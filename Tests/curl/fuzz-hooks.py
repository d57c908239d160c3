"""schemathesis hooks of fuzz.sh: a tus PATCH body (application/offset+octet-stream) is
sent as raw bytes, like application/octet-stream."""
import schemathesis

schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")
