module vdi.local/node/httpd

go 1.26.0
