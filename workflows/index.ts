export { customerMigration } from './customer-migration';
