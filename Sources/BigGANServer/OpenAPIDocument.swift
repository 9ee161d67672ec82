/// The OpenAPI 3 description of every route, served at `/openapi.json`.
enum OpenAPIDocument {
    static let json = #"""
{
  "openapi": "3.0.3",
  "info": {"title": "BigGAN sampling server", "version": "1.0.0",
           "description": "Class-conditional samples, interpolations and model information from BigGAN-family generators on the CPU. Errors are {\"error\": {\"code\", \"message\"}}."},
  "paths": {
    "/healthz": {"get": {"summary": "Health: models loaded, request-log state, queue depth",
      "responses": {"200": {"description": "Serving (status ok, or degraded when the request log cannot be written)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}},
                    "503": {"description": "No model loaded", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}}}},
    "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "Prometheus text format 0.0.4", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
    "/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3 document", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
    "/v1/models": {"get": {"summary": "Loaded models", "responses": {"200": {"description": "Model list", "content": {"application/json": {"schema": {"type": "object", "properties": {"models": {"type": "array", "items": {"$ref": "#/components/schemas/ModelSummary"}}}}}}}}}},
    "/v1/models/{name}": {"get": {"summary": "One model: config and class names",
      "parameters": [{"name": "name", "in": "path", "required": true, "schema": {"type": "string"}}],
      "responses": {"200": {"description": "Model detail", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ModelDetail"}}}},
                    "404": {"$ref": "#/components/responses/Error"}}}},
    "/v1/sample": {"get": {"summary": "One image, or a grid when n > 1, as PNG",
      "parameters": [{"$ref": "#/components/parameters/model"}, {"$ref": "#/components/parameters/class"},
        {"name": "seed", "in": "query", "description": "Seed of the first image; image i uses seed+i. Random when omitted (then no ETag).", "schema": {"type": "integer", "minimum": 0}},
        {"$ref": "#/components/parameters/truncation"},
        {"name": "n", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 64, "default": 1}},
        {"name": "columns", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
      "responses": {"200": {"$ref": "#/components/responses/PNG"}, "304": {"description": "Not modified (If-None-Match matched the ETag)"},
                    "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Busy"}}}},
    "/v1/samples": {"post": {"summary": "Samples as JSON with base64 PNGs; accepts explicit z vectors",
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SamplesRequest"}}}},
      "responses": {"200": {"description": "Images and the seeds used", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SamplesReply"}}}},
                    "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
                    "413": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Busy"}}}},
    "/v1/interpolate": {"get": {"summary": "A PNG strip interpolating latents (class held) or classes (z held)",
      "parameters": [{"$ref": "#/components/parameters/model"},
        {"name": "kind", "in": "query", "schema": {"type": "string", "enum": ["latent", "class"], "default": "latent"}},
        {"name": "steps", "in": "query", "schema": {"type": "integer", "minimum": 2, "maximum": 32, "default": 8}},
        {"$ref": "#/components/parameters/truncation"},
        {"name": "class", "in": "query", "description": "kind=latent: the class held", "schema": {"type": "string"}},
        {"name": "seed_a", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
        {"name": "seed_b", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 1}},
        {"name": "method", "in": "query", "description": "kind=latent only", "schema": {"type": "string", "enum": ["linear", "spherical"], "default": "linear"}},
        {"name": "seed", "in": "query", "description": "kind=class: the seed held", "schema": {"type": "integer", "minimum": 0, "default": 0}},
        {"name": "class_a", "in": "query", "schema": {"type": "string"}}, {"name": "class_b", "in": "query", "schema": {"type": "string"}}],
      "responses": {"200": {"$ref": "#/components/responses/PNG"}, "304": {"description": "Not modified"},
                    "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Busy"}}}},
    "/v1/requests": {"get": {"summary": "Recent request-log rows (admin)", "security": [{"bearer": []}],
      "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}],
      "responses": {"200": {"description": "Newest first", "content": {"application/json": {"schema": {"type": "object", "properties": {"requests": {"type": "array", "items": {"$ref": "#/components/schemas/RequestRow"}}}}}}},
                    "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}},
    "/{file}": {"get": {"summary": "Gallery and static files from public/ (GET / is the gallery)",
      "parameters": [{"name": "file", "in": "path", "required": true, "schema": {"type": "string"}}],
      "responses": {"200": {"description": "The file"}, "404": {"$ref": "#/components/responses/Error"}}}}
  },
  "components": {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "The --admin-token (also accepted as X-Admin-Token)"}},
    "parameters": {
      "model": {"name": "model", "in": "query", "description": "Model name; the first loaded model when omitted", "schema": {"type": "string"}},
      "class": {"name": "class", "in": "query", "description": "Class index or name", "schema": {"type": "string", "default": "0"}},
      "truncation": {"name": "truncation", "in": "query", "description": "Threshold (resample models, >= 0.01) or scale in (0, 1] (truncnorm-scaled models)", "schema": {"type": "number", "default": 1.0}}
    },
    "responses": {
      "PNG": {"description": "PNG image", "headers": {"ETag": {"schema": {"type": "string"}}, "X-Seed": {"schema": {"type": "string"}}}, "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}},
      "Error": {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Busy": {"description": "Queue full or shutting down; see Retry-After", "headers": {"Retry-After": {"schema": {"type": "integer"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    },
    "schemas": {
      "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}},
      "Health": {"type": "object", "properties": {"status": {"type": "string", "enum": ["ok", "degraded", "unavailable"]}, "models": {"type": "array", "items": {"type": "string"}},
        "failed_models": {"type": "array", "items": {"type": "object", "properties": {"path": {"type": "string"}, "reason": {"type": "string"}}}},
        "request_log": {"type": "object", "properties": {"ok": {"type": "boolean"}, "path": {"type": "string", "nullable": true}, "error": {"type": "string", "nullable": true}}},
        "queue_depth": {"type": "integer"}}},
      "ModelSummary": {"type": "object", "properties": {"name": {"type": "string"}, "architecture": {"type": "string"}, "resolution": {"type": "integer"}, "channels": {"type": "integer"},
        "classes": {"type": "integer"}, "dim_z": {"type": "integer"}, "truncation": {"type": "string"}, "default": {"type": "boolean"}, "provenance": {"type": "string", "nullable": true}}},
      "ModelDetail": {"allOf": [{"$ref": "#/components/schemas/ModelSummary"}, {"type": "object", "properties": {"class_names": {"type": "array", "items": {"type": "string"}}, "config": {"type": "object"}, "parameters": {"type": "integer"}}}]},
      "ClassValue": {"oneOf": [{"type": "integer", "minimum": 0}, {"type": "string"}]},
      "SamplesRequest": {"type": "object", "properties": {"model": {"type": "string"}, "class": {"$ref": "#/components/schemas/ClassValue"},
        "classes": {"type": "array", "items": {"$ref": "#/components/schemas/ClassValue"}}, "seed": {"type": "integer", "minimum": 0},
        "seeds": {"type": "array", "items": {"type": "integer", "minimum": 0}, "maxItems": 64}, "n": {"type": "integer", "minimum": 1, "maximum": 64},
        "z": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}, "maxItems": 64}, "truncation": {"type": "number"}}},
      "SamplesReply": {"type": "object", "properties": {"model": {"type": "string"}, "truncation": {"type": "number"},
        "images": {"type": "array", "items": {"type": "object", "properties": {"index": {"type": "integer"}, "class": {"type": "integer"}, "class_name": {"type": "string"},
          "seed": {"type": "integer", "nullable": true}, "png_base64": {"type": "string", "format": "byte"}}}}}},
      "RequestRow": {"type": "object", "properties": {"id": {"type": "integer"}, "time": {"type": "string"}, "method": {"type": "string"}, "path": {"type": "string"},
        "query": {"type": "string"}, "status": {"type": "integer"}, "duration_ms": {"type": "number"}, "bytes": {"type": "integer"},
        "model": {"type": "string", "nullable": true}, "client": {"type": "string"}, "error": {"type": "string", "nullable": true}}}
    }
  }
}
"""#
}
