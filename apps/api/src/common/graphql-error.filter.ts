import { Catch } from '@nestjs/common';
import type { GqlExceptionFilter } from '@nestjs/graphql';
import { GraphQLError } from 'graphql';

/**
 * GraphQLErrors are the API's answers (codes and messages for the client), not failures of the
 * server: hand them to the driver as they are, without Nest's error log line for each.
 */
@Catch(GraphQLError)
export class GraphQLErrorPassThrough implements GqlExceptionFilter {
  catch(err: GraphQLError): GraphQLError {
    return err;
  }
}
